// consumer MODEL IMAGE: the top-5 classes of one photo, with the installed vitscope library.
// MODEL is a name from the model manifest (weights/models.json) or a .safetensors file.
#include <cstdio>
#include <exception>

#include <vitscope/io/image.hpp>
#include <vitscope/io/labels.hpp>
#include <vitscope/models/classifier.hpp>
#include <vitscope/models/model_registry.hpp>
#include <vitscope/models/predictions.hpp>
#include <vitscope/preprocess/preprocess.hpp>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: consumer MODEL IMAGE\n");
    return 2;
  }
  try {
    const vitscope::ModelSpec spec = vitscope::ModelRegistry::load_default().resolve(argv[1]);
    vitscope::ThreadPool pool(vitscope::hardware_threads());
    const auto model = vitscope::load_classifier(spec, &pool);  // immutable: share it freely
    vitscope::Session session(&pool);                          // what one caller's runs change

    const xt::xtensor<float, 3> image = vitscope::preprocess(vitscope::load_image(argv[2]), spec.preprocess);
    xt::xtensor<float, 4> batch = xt::xtensor<float, 4>::from_shape({1, image.shape(0), image.shape(1), image.shape(2)});
    std::copy(image.begin(), image.end(), batch.begin());
    const xt::xtensor<float, 2> logits = model->forward(batch, session);

    const auto labels = spec.labels_path.empty() ? std::vector<std::string>{}
                                                 : vitscope::read_label_names(spec.labels_path);
    for (const vitscope::Prediction& p : vitscope::top_k(logits.data(), model->num_classes(), 5, labels))
      std::printf("%7.2f%%  %s (%d)\n", 100 * p.probability, p.label.c_str(), p.class_index);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "consumer: %s\n", e.what());
    return 1;
  }
  return 0;
}
