// Rigid-pose arithmetic of the continuous trajectory (internal): the bit-identical twin of
// python/egom2p_edge/streaming/pose_math.py, whose docstring states the conventions. Quaternions
// are (w, x, y, z), Hamilton, w >= 0; every expression keeps the Python operation order, and the
// library is built with -ffp-contract=off, so no multiply-add is fused.
#pragma once

#include <array>
#include <cstddef>
#include <vector>

namespace egom2p {
namespace pose_math {

using Quat = std::array<double, 4>;
using Vec3 = std::array<double, 3>;

struct Pose {
  Quat q = {1.0, 0.0, 0.0, 0.0};
  Vec3 t = {0.0, 0.0, 0.0};
};

double QuatDot(const Quat& a, const Quat& b);
Quat QuatNormalize(const Quat& q);
Quat QuatMul(const Quat& a, const Quat& b);
std::array<double, 9> QuatToMatrix(const Quat& q);  // row-major 3x3
Quat MatrixToQuat(const std::array<double, 9>& r);
Vec3 Rotate(const Quat& q, const Vec3& v);
Pose Compose(const Pose& a, const Pose& b);  // a * b
Pose Inverse(const Pose& p);
Pose PoseFromMatrix(const float* m);          // (4, 4) row-major
void PoseToMatrix(const Pose& p, double* m);  // (4, 4) row-major
double Lerp(double a, double b, double f);
Pose Interpolate(const Pose& a, const Pose& b, double f);  // f == 0 returns a
// Weighted mean (weights > 0, in order), quaternion signs aligned to poses[ref].
Pose WeightedMean(const std::vector<Pose>& poses, const std::vector<double>& weights, size_t ref);

}  // namespace pose_math
}  // namespace egom2p
