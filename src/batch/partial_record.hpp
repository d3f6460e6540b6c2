#pragma once
// The bytes an interrupted run left after the last whole record of a result file: --resume cuts
// them off, so they must be the start of a record exactly as a run writes it (row.cpp), read
// byte by byte against that layout. Anything else is someone's text, which is never removed.
#include <cstddef>
#include <string>

#include "vitscope/batch/output.hpp"

namespace vitscope::batch {

// Why `tail` (no newline outside quotes) cannot be the start of a row of this format, under a CSV
// header of csv_columns fields, as a run expected by `expect` writes it; "" when it can be.
std::string partial_row_problem(ResultFormat format, const std::string& tail, std::size_t csv_columns,
                                const TailExpectations& expect);

// Why `tail` cannot be the start of the CSV header `expect` names (of any --topk when it names
// none); "" when it can be.
std::string partial_header_problem(const std::string& tail, const TailExpectations& expect);

}  // namespace vitscope::batch
