#pragma once
// The files a batch run covers: folders walked recursively in sorted order (images recognised by
// content), each file once, with the name that decides its shard.
#include <string>
#include <vector>

#include "vitscope/batch/shard.hpp"

namespace vitscope::batch {

struct BatchInput {
  std::string path;      // as written in the result rows: the argument joined with the found name
  std::string relative;  // below the folder argument it was found in; a file argument's file name
};

// Arguments in the order given, each folder's files sorted; a path reached twice is kept once.
std::vector<BatchInput> discover_batch_inputs(const std::vector<std::string>& arguments);

// The inputs of one shard, order kept.
std::vector<BatchInput> select_shard(const std::vector<BatchInput>& inputs, const Shard& shard);

}  // namespace vitscope::batch
