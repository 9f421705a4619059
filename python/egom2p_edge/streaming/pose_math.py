"""Rigid-pose arithmetic of the continuous trajectory, in scalar float64 with a fixed operation
order so that the C++ twin (``cpp/src/stream_pose_math.cc``) gives the same bits.

A pose is ``(q, t)``: a unit quaternion ``q = (w, x, y, z)`` (Hamilton convention, ``w >= 0``)
and a translation ``t = (x, y, z)``; it maps camera coordinates to its reference frame
(``T_ref_camera``: ``p_ref = R(q) p_cam + t``). Every expression is written left to right as
evaluated; only +, -, *, / and sqrt are used (correctly rounded in IEEE float64 everywhere), so
the results do not depend on the math library.
"""

from __future__ import annotations

import math

Quat = tuple[float, float, float, float]
Vec3 = tuple[float, float, float]
Pose = tuple[Quat, Vec3]


def quat_dot(a: Quat, b: Quat) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3]


def quat_normalize(q: Quat) -> Quat:
    """q / |q| with w >= 0 (q and -q are the same rotation)."""
    n = math.sqrt(quat_dot(q, q))
    w, x, y, z = q[0] / n, q[1] / n, q[2] / n, q[3] / n
    if w < 0.0:
        return (-w, -x, -y, -z)
    return (w, x, y, z)


def quat_mul(a: Quat, b: Quat) -> Quat:
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return (
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    )


def quat_to_matrix(q: Quat) -> tuple[float, ...]:
    """Row-major 3x3 rotation matrix of a unit quaternion. Shape (9,)."""
    w, x, y, z = q
    return (
        1.0 - 2.0 * (y * y + z * z),
        2.0 * (x * y - z * w),
        2.0 * (x * z + y * w),
        2.0 * (x * y + z * w),
        1.0 - 2.0 * (x * x + z * z),
        2.0 * (y * z - x * w),
        2.0 * (x * z - y * w),
        2.0 * (y * z + x * w),
        1.0 - 2.0 * (x * x + y * y),
    )


def matrix_to_quat(r: tuple[float, ...]) -> Quat:
    """Unit quaternion (w >= 0) of a row-major 3x3 rotation matrix (Shepperd's method: the
    branch with the largest diagonal term, for accuracy)."""
    r00, r01, r02, r10, r11, r12, r20, r21, r22 = r
    tr = r00 + r11 + r22
    if tr > 0.0:
        s = math.sqrt(tr + 1.0) * 2.0
        q = (0.25 * s, (r21 - r12) / s, (r02 - r20) / s, (r10 - r01) / s)
    elif r00 > r11 and r00 > r22:
        s = math.sqrt(1.0 + r00 - r11 - r22) * 2.0
        q = ((r21 - r12) / s, 0.25 * s, (r01 + r10) / s, (r02 + r20) / s)
    elif r11 > r22:
        s = math.sqrt(1.0 + r11 - r00 - r22) * 2.0
        q = ((r02 - r20) / s, (r01 + r10) / s, 0.25 * s, (r12 + r21) / s)
    else:
        s = math.sqrt(1.0 + r22 - r00 - r11) * 2.0
        q = ((r10 - r01) / s, (r02 + r20) / s, (r12 + r21) / s, 0.25 * s)
    return quat_normalize(q)


def rotate(q: Quat, v: Vec3) -> Vec3:
    m = quat_to_matrix(q)
    return (
        m[0] * v[0] + m[1] * v[1] + m[2] * v[2],
        m[3] * v[0] + m[4] * v[1] + m[5] * v[2],
        m[6] * v[0] + m[7] * v[1] + m[8] * v[2],
    )


def compose(a: Pose, b: Pose) -> Pose:
    """a * b: (qa qb, R(qa) tb + ta)."""
    q = quat_normalize(quat_mul(a[0], b[0]))
    rt = rotate(a[0], b[1])
    return q, (rt[0] + a[1][0], rt[1] + a[1][1], rt[2] + a[1][2])


def inverse(p: Pose) -> Pose:
    qc = (p[0][0], -p[0][1], -p[0][2], -p[0][3])
    rt = rotate(qc, p[1])
    return qc, (-rt[0], -rt[1], -rt[2])


def pose_from_matrix(m) -> Pose:
    """A (4, 4) row-major matrix (any float dtype) -> pose."""
    r = tuple(float(m[i][j]) for i in range(3) for j in range(3))
    return matrix_to_quat(r), (float(m[0][3]), float(m[1][3]), float(m[2][3]))


def pose_to_matrix(p: Pose) -> list[list[float]]:
    """Pose -> (4, 4) row-major matrix as nested lists."""
    m = quat_to_matrix(p[0])
    t = p[1]
    return [
        [m[0], m[1], m[2], t[0]],
        [m[3], m[4], m[5], t[1]],
        [m[6], m[7], m[8], t[2]],
        [0.0, 0.0, 0.0, 1.0],
    ]


def lerp(a: float, b: float, f: float) -> float:
    return a + f * (b - a)


def interpolate(a: Pose, b: Pose, f: float) -> Pose:
    """Pose at fraction f in [0, 1) between a and b: linear translation, normalised linear
    quaternion (nlerp, b's sign aligned with a's); f == 0 returns a unchanged."""
    if f == 0.0:
        return a
    qa, qb = a[0], b[0]
    sign = 1.0 if quat_dot(qa, qb) >= 0.0 else -1.0
    q = quat_normalize(tuple(lerp(qa[k], sign * qb[k], f) for k in range(4)))
    return q, tuple(lerp(a[1][k], b[1][k], f) for k in range(3))


def weighted_mean(poses: list[Pose], weights: list[float], ref: int) -> Pose:
    """Weighted mean of poses (weights > 0, in list order): translations averaged, quaternions
    summed with their signs aligned to poses[ref] and normalised (the chordal mean for nearby
    rotations)."""
    qr = poses[ref][0]
    acc_q = [0.0, 0.0, 0.0, 0.0]
    acc_t = [0.0, 0.0, 0.0]
    total = 0.0
    for (q, t), w in zip(poses, weights):
        c = w if quat_dot(q, qr) >= 0.0 else -w
        for k in range(4):
            acc_q[k] = acc_q[k] + c * q[k]
        for k in range(3):
            acc_t[k] = acc_t[k] + w * t[k]
        total = total + w
    return quat_normalize(tuple(acc_q)), (acc_t[0] / total, acc_t[1] / total, acc_t[2] / total)
