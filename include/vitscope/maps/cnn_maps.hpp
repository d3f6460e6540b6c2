#pragma once
// What a CNN's activations show: where the evidence for a class lies (class activation map) and how
// far each layer sees, in theory (receptive field by the layer recurrence) and in practice
// (effective receptive field: the input gradient of one unit).
#include <cmath>
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "vitscope/maps/mass_spread.hpp"
#include "vitscope/models/cnn.hpp"

namespace vitscope {

// ---- class activation map (Zhou et al., 2016) ------------------------------------------------

// cam[h, w] = ReLU(Σ_c head_weight[class, c] · features[h, w, c]) for one image's pooled feature
// map features[h, w, C] (NHWC) and a global-average-pool + linear head [classes, C]. No
// back-propagation is needed: ∂logit/∂features = head_weight[class] / (h·w) everywhere, so Grad-CAM
// equals this map divided by h·w. At the feature map's resolution; the caller upsamples.
xt::xtensor<float, 2> class_activation_map(const xt::xtensor<float, 3>& features,
                                           const xt::xtensor<float, 2>& head_weight,
                                           int class_index);

struct ClassActivation {
  int class_index = 0;            // the class mapped
  xt::xtensor<float, 1> logits;   // [classes] of the image
  xt::xtensor<float, 2> map;      // [h, w]
};

// One forward pass of a preprocessed image[3, H, W]; class_index < 0 maps the top-1 class.
ClassActivation class_activation_map(const CnnModel& model, Session& session,
                                     const xt::xtensor<float, 3>& image,
                                     int class_index = -1);

// ---- theoretical receptive field ---------------------------------------------------------------

// The input pixels a layer's unit (i, j) can depend on: rows [start_y + i·jump, + size) and columns
// [start_x + j·jump, + size), padding included (start is negative when the field reaches into it).
// By the recurrence size' = size + (k − 1)·jump, jump' = jump·stride, start' = start − pad_before·jump;
// a residual addition takes the union of its inputs' fields.
struct ReceptiveField {
  int size = 1;
  int jump = 1;
  int start_y = 0, start_x = 0;
  double centre_y(int unit_y) const { return start_y + double(unit_y) * jump + (size - 1) / 2.0; }
  double centre_x(int unit_x) const { return start_x + double(unit_x) * jump + (size - 1) / 2.0; }
};

// Every layer's field (indexed like model.layers()) for an input of height × width: TensorFlow
// "same" padding, and so start, depends on the input size.
std::vector<ReceptiveField> theoretical_receptive_fields(const CnnModel& model, int height, int width);

// ---- effective receptive field (Luo et al., 2016) ----------------------------------------------

struct ErfOptions {
  int channel = -1;             // the unit's channel; -1: the sum over the channels at its position
  double mass_fraction = 0.95;  // of the gradient mass, for `size`
};

struct EffectiveReceptiveField {
  int layer = 0;
  CnnUnit unit;                // the centre unit (h/2, w/2) of the layer's output
  xt::xtensor<float, 2> map;   // [H, W]: Σ over the input's channels of |∂unit/∂image|
  double centre_y = 0, centre_x = 0;  // the unit's theoretical field centre, input pixels
  MassSpread spread;           // of map around that centre
};

// The ERF of each layer's centre unit for one preprocessed image[3, H, W] (a photo, or a constant
// image to see the architecture alone): one forward pass, then one backward pass per layer through
// the transposed convolutions and the ReLU / ReLU6 masks and max-pool routing of that image.
std::vector<EffectiveReceptiveField> effective_receptive_fields(const CnnModel& model,
                                                                Session& session,
                                                                const xt::xtensor<float, 3>& image,
                                                                const std::vector<int>& layers,
                                                                const ErfOptions& options = {});

// ---- how far each layer sees -------------------------------------------------------------------

struct LayerReach {
  int layer = 0;               // index into model.layers()
  std::string name;
  CnnOp op = CnnOp::Conv;
  int depth = 0;               // convolutions from the image, this one included
  int theoretical_size = 1;    // pixels
  int jump = 1;                // pixels between neighbouring units
  double effective_size = NAN;   // pixels (MassSpread::size), when the ERF was computed
  double effective_sigma = NAN;  // pixels
  double effective_mean_distance = NAN;  // pixels (MassSpread::mean_distance)
  // One hop: how far this layer alone reaches, as a mean distance in input pixels: the mean over
  // its k×k kernel taps of their distance from the centre tap, taps spaced by the jump of its
  // input (0 for a 1×1 convolution and for the residual addition). The CNN counterpart of a
  // head's mean attention distance, with every tap weighted alike.
  double one_hop_mean_distance = 0;
};

// Mean distance, in input pixels, of the taps of a kernel × kernel window spaced `jump` pixels
// apart from its centre (3×3 at jump 1: (4·1 + 4·√2) / 9 ≈ 1.07).
double kernel_mean_distance(int kernel, int jump);

// Every layer but the image, with its theoretical field for height × width.
std::vector<LayerReach> layer_reach(const CnnModel& model, int height, int width);
// The same for image's size, with the ERF of erf_layers (empty: every layer) filled in.
std::vector<LayerReach> layer_reach(const CnnModel& model, Session& session,
                                    const xt::xtensor<float, 3>& image,
                                    const std::vector<int>& erf_layers,
                                    const ErfOptions& options = {});

}  // namespace vitscope
