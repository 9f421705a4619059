// Rigid-pose arithmetic of the continuous trajectory (twin of
// python/egom2p_edge/streaming/pose_math.py: same expressions, same order).
#include "stream_pose_math.h"

#include <cmath>

namespace egom2p {
namespace pose_math {

double QuatDot(const Quat& a, const Quat& b) {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3];
}

Quat QuatNormalize(const Quat& q) {
  const double n = std::sqrt(QuatDot(q, q));
  const double w = q[0] / n, x = q[1] / n, y = q[2] / n, z = q[3] / n;
  if (w < 0.0) return {-w, -x, -y, -z};
  return {w, x, y, z};
}

Quat QuatMul(const Quat& a, const Quat& b) {
  const double aw = a[0], ax = a[1], ay = a[2], az = a[3];
  const double bw = b[0], bx = b[1], by = b[2], bz = b[3];
  return {aw * bw - ax * bx - ay * by - az * bz, aw * bx + ax * bw + ay * bz - az * by,
          aw * by - ax * bz + ay * bw + az * bx, aw * bz + ax * by - ay * bx + az * bw};
}

std::array<double, 9> QuatToMatrix(const Quat& q) {
  const double w = q[0], x = q[1], y = q[2], z = q[3];
  return {1.0 - 2.0 * (y * y + z * z), 2.0 * (x * y - z * w),       2.0 * (x * z + y * w),
          2.0 * (x * y + z * w),       1.0 - 2.0 * (x * x + z * z), 2.0 * (y * z - x * w),
          2.0 * (x * z - y * w),       2.0 * (y * z + x * w),       1.0 - 2.0 * (x * x + y * y)};
}

Quat MatrixToQuat(const std::array<double, 9>& r) {
  const double r00 = r[0], r01 = r[1], r02 = r[2], r10 = r[3], r11 = r[4], r12 = r[5], r20 = r[6],
               r21 = r[7], r22 = r[8];
  const double tr = r00 + r11 + r22;
  Quat q;
  if (tr > 0.0) {
    const double s = std::sqrt(tr + 1.0) * 2.0;
    q = {0.25 * s, (r21 - r12) / s, (r02 - r20) / s, (r10 - r01) / s};
  } else if (r00 > r11 && r00 > r22) {
    const double s = std::sqrt(1.0 + r00 - r11 - r22) * 2.0;
    q = {(r21 - r12) / s, 0.25 * s, (r01 + r10) / s, (r02 + r20) / s};
  } else if (r11 > r22) {
    const double s = std::sqrt(1.0 + r11 - r00 - r22) * 2.0;
    q = {(r02 - r20) / s, (r01 + r10) / s, 0.25 * s, (r12 + r21) / s};
  } else {
    const double s = std::sqrt(1.0 + r22 - r00 - r11) * 2.0;
    q = {(r10 - r01) / s, (r02 + r20) / s, (r12 + r21) / s, 0.25 * s};
  }
  return QuatNormalize(q);
}

Vec3 Rotate(const Quat& q, const Vec3& v) {
  const std::array<double, 9> m = QuatToMatrix(q);
  return {m[0] * v[0] + m[1] * v[1] + m[2] * v[2], m[3] * v[0] + m[4] * v[1] + m[5] * v[2],
          m[6] * v[0] + m[7] * v[1] + m[8] * v[2]};
}

Pose Compose(const Pose& a, const Pose& b) {
  Pose out;
  out.q = QuatNormalize(QuatMul(a.q, b.q));
  const Vec3 rt = Rotate(a.q, b.t);
  out.t = {rt[0] + a.t[0], rt[1] + a.t[1], rt[2] + a.t[2]};
  return out;
}

Pose Inverse(const Pose& p) {
  Pose out;
  out.q = {p.q[0], -p.q[1], -p.q[2], -p.q[3]};
  const Vec3 rt = Rotate(out.q, p.t);
  out.t = {-rt[0], -rt[1], -rt[2]};
  return out;
}

Pose PoseFromMatrix(const float* m) {
  std::array<double, 9> r;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) r[i * 3 + j] = static_cast<double>(m[i * 4 + j]);
  }
  Pose p;
  p.q = MatrixToQuat(r);
  p.t = {static_cast<double>(m[3]), static_cast<double>(m[7]), static_cast<double>(m[11])};
  return p;
}

void PoseToMatrix(const Pose& p, double* m) {
  const std::array<double, 9> r = QuatToMatrix(p.q);
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) m[i * 4 + j] = r[i * 3 + j];
    m[i * 4 + 3] = p.t[i];
  }
  m[12] = 0.0;
  m[13] = 0.0;
  m[14] = 0.0;
  m[15] = 1.0;
}

double Lerp(double a, double b, double f) { return a + f * (b - a); }

Pose Interpolate(const Pose& a, const Pose& b, double f) {
  if (f == 0.0) return a;
  const double sign = QuatDot(a.q, b.q) >= 0.0 ? 1.0 : -1.0;
  Quat q;
  for (int k = 0; k < 4; ++k) q[k] = Lerp(a.q[k], sign * b.q[k], f);
  Pose out;
  out.q = QuatNormalize(q);
  for (int k = 0; k < 3; ++k) out.t[k] = Lerp(a.t[k], b.t[k], f);
  return out;
}

Pose WeightedMean(const std::vector<Pose>& poses, const std::vector<double>& weights, size_t ref) {
  const Quat& qr = poses[ref].q;
  Quat acc_q = {0.0, 0.0, 0.0, 0.0};
  Vec3 acc_t = {0.0, 0.0, 0.0};
  double total = 0.0;
  for (size_t i = 0; i < poses.size(); ++i) {
    const double w = weights[i];
    const double c = QuatDot(poses[i].q, qr) >= 0.0 ? w : -w;
    for (int k = 0; k < 4; ++k) acc_q[k] = acc_q[k] + c * poses[i].q[k];
    for (int k = 0; k < 3; ++k) acc_t[k] = acc_t[k] + w * poses[i].t[k];
    total = total + w;
  }
  Pose out;
  out.q = QuatNormalize(acc_q);
  out.t = {acc_t[0] / total, acc_t[1] / total, acc_t[2] / total};
  return out;
}

}  // namespace pose_math
}  // namespace egom2p
