#pragma once
// How a non-negative map (an effective receptive field: gradient magnitude per input pixel)
// spreads around a point, in the map's pixels.
#include <cmath>

#include <xtensor/xtensor.hpp>

namespace vitscope {

// How a non-negative map spreads around a point: size = side of the smallest square centred on
// (centre_y, centre_x) that holds mass_fraction of the total, i.e. 2·d + 1 for the smallest
// Chebyshev radius d (whole rings of pixels at a time); sigma = √((var_y + var_x) / 2) of the map
// read as a distribution over pixel centres. Both NaN when the map is all zero.
struct MassSpread {
  double size = NAN;
  double sigma = NAN;
  double mass = 0;  // Σ map
  // Σ map · ‖pixel − centre‖ / Σ map: the gradient-weighted mean Euclidean distance from the centre.
  double mean_distance = NAN;
};
MassSpread mass_spread(const xt::xtensor<float, 2>& map, double centre_y, double centre_x,
                       double mass_fraction);

}  // namespace vitscope
