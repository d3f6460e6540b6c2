#include "partial_record.hpp"

#include <functional>
#include <vector>

#include <nlohmann/json.hpp>

#include "vitscope/core/error.hpp"

namespace vitscope::batch {
namespace {

// The tail ran out: every byte read so far fits the layout.
struct EndOfTail {};

// A byte that does not fit, and why.
struct Misfit {
  std::string problem;
};

class TailReader {
 public:
  explicit TailReader(const std::string& text) : text_(text) {}
  char peek() const {
    if (at_ == text_.size()) throw EndOfTail{};
    return text_[at_];
  }
  char next() {
    const char c = peek();
    ++at_;
    return c;
  }
  // The rest starts like `literal` (as far as the rest goes).
  bool starts_like(const std::string& literal) const {
    const std::size_t n = std::min(literal.size(), text_.size() - at_);
    return text_.compare(at_, n, literal, 0, n) == 0;
  }
  void expect(const std::string& literal, const std::string& problem) {
    for (const char c : literal)
      if (next() != c) throw Misfit{problem};
  }

 private:
  const std::string& text_;
  std::size_t at_ = 0;
};

// Checks a field's value, whole or as far as the tail goes (whole: false); returns the problem, or "".
using Check = std::function<std::string(const std::string& value, bool whole)>;

void refuse_if(const std::string& problem) {
  if (!problem.empty()) throw Misfit{problem};
}

// read() reads one field into value; value is checked whether the field ends or the tail does.
void read_checked(const std::string& value, const Check& check, const std::function<void()>& read) {
  try {
    read();
  } catch (const EndOfTail&) {
    refuse_if(check(value, false));
    throw;
  }
  refuse_if(check(value, true));
}

Check any_value() {
  return [](const std::string&, bool) { return std::string(); };
}

Check one_of(const std::vector<std::string>& allowed, const std::string& field) {
  return [allowed, field](const std::string& value, bool whole) {
    for (const std::string& a : allowed)
      if (whole ? value == a : a.compare(0, value.size(), value) == 0) return std::string();
    std::string names;
    for (const std::string& a : allowed) names += (names.empty() ? "" : " or ") + a;
    return field + " \"" + printable(value) + (whole ? "\"" : "\"...") + ", not " + names;
  };
}

// Characters of `set` only, at most `longest`, and at least one once whole (none for an error row,
// whose classes and digest may be empty).
Check made_of(const std::string& set, std::size_t longest, const std::string& field, bool may_be_empty) {
  return [=](const std::string& value, bool whole) {
    if (value.find_first_not_of(set) != std::string::npos || value.size() > longest)
      return field + " \"" + printable(value) + "\" is not what a run writes there";
    if (whole && value.empty() && !may_be_empty) return "an empty " + field;
    return std::string();
  };
}

Check empty_value(const std::string& why) {
  return [why](const std::string& value, bool) { return value.empty() ? std::string() : why; };
}

Check model_value(const std::string& model) {
  if (model.empty()) return any_value();
  return one_of({model}, "model");
}

const std::string kDigits = "0123456789", kHex = "0123456789abcdef", kNumber = "0123456789.e+-";
constexpr std::size_t kUnbounded = std::string::npos;

// ---- CSV: fields as csv_field writes them ----------------------------------------------------

// One CSV field, checked; returns its value once a comma ends it (the tail may end first:
// EndOfTail). The last column is never followed by a comma.
std::string read_csv_field(TailReader& r, const Check& check, bool last_column) {
  std::string value;
  bool quoted = false;
  read_checked(value, check, [&] {
    char c = r.next();
    quoted = c == '"';
    if (quoted) {
      for (c = r.next();; c = r.next()) {
        if (c == '"' && (c = r.next()) != '"') break;  // the closing quote; c follows it
        value += c;
      }
      if (c != ',') throw Misfit{"text after a closing quote"};
    } else {
      for (; c != ','; c = r.next()) {
        if (c == '"' || c == '\r') throw Misfit{"a quote or carriage return in an unquoted field"};
        value += c;
      }
    }
  });
  if (quoted && csv_field(value) == value) throw Misfit{"quotes around a field that needs none"};
  if (last_column) throw Misfit{"more fields than the header's"};
  return value;
}

// The check of column i (path, status, error, model, sha256, then class, label, probability per
// rank) in a row whose status is ok or not.
Check csv_column_check(std::size_t i, bool ok, const TailExpectations& expect) {
  switch (i) {
    case 0: return any_value();  // any bytes; an empty path is refused once the field ends
    case 1: return one_of({"ok", "error"}, "status");
    case 2: return ok ? empty_value("an ok row with an error message") : any_value();
    case 3: return model_value(expect.model);
    case 4: return made_of(kHex, 64, "sha256", !ok);
  }
  if (!ok) return empty_value("an error row with classes");
  const std::size_t rank_field = (i - 5) % 3;
  if (expect.predictions > 0 && (i - 5) / 3 >= expect.predictions) return empty_value("more classes than this run's");
  if (rank_field == 0) return made_of(kDigits, 10, "class", true);
  if (rank_field == 1) return any_value();
  return made_of(kNumber, 16, "probability", true);
}

void read_csv_row(TailReader& r, std::size_t columns, const TailExpectations& expect) {
  bool ok = false;
  for (std::size_t i = 0; i < columns; ++i) {
    const std::string value = read_csv_field(r, csv_column_check(i, ok, expect), i + 1 == columns);
    if (i == 0 && value.empty()) throw Misfit{"an empty path"};
    if (i == 1) ok = value == "ok";
  }
}

// ---- JSON lines: the members json_record writes, in its order, on one line -------------------

// A JSON string's text between its quotes (escapes as written), checked.
std::string read_json_string(TailReader& r, const Check& check) {
  if (r.next() != '"') throw Misfit{"a value that is not a string where a run writes one"};
  std::string raw;
  read_checked(raw, check, [&] {
    for (char c = r.next(); c != '"'; c = r.next()) {
      if (static_cast<unsigned char>(c) < 0x20) throw Misfit{"a control character in a string"};
      raw += c;
      if (c == '\\') raw += r.next();  // an escaped quote does not end the string
    }
  });
  return raw;
}

// The text json_record gives `value` between its quotes.
std::string json_text(const std::string& value) {
  const std::string quoted = nlohmann::json(value).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return quoted.substr(1, quoted.size() - 2);
}

// [a,b,...] of at most `most` elements, each read by read_element.
void read_json_array(TailReader& r, std::size_t most, const std::function<void()>& read_element) {
  r.expect("[", "a value that is not an array where a run writes one");
  if (r.peek() == ']') {
    r.next();
    return;
  }
  for (std::size_t count = 1;; ++count) {
    if (count > most) throw Misfit{"more classes than this run's"};
    read_element();
    const char c = r.next();
    if (c == ']') return;
    if (c != ',') throw Misfit{"an array that is not as a run writes it"};
  }
}

void read_json_number(TailReader& r, const Check& check) {
  std::string text;
  read_checked(text, check, [&] {
    while (kNumber.find(r.peek()) != std::string::npos) text += r.next();
  });
}

void read_json_row(TailReader& r, const TailExpectations& expect) {
  const std::string order = "members other than path, status, error, model, sha256, classes, labels, "
                            "probabilities in this order";
  r.expect("{\"path\":", "a result file's rows start with {\"path\":");
  read_json_string(r, any_value());
  if (r.starts_like(",\"path_bytes\":")) {
    r.expect(",\"path_bytes\":", order);
    read_json_string(r, made_of(kHex, kUnbounded, "path_bytes", false));
  }
  r.expect(",\"status\":", order);
  const bool ok = read_json_string(r, one_of({"ok", "error"}, "status")) == "ok";
  r.expect(",\"error\":", order);
  read_json_string(r, ok ? empty_value("an ok row with an error message") : any_value());
  r.expect(",\"model\":", order);
  read_json_string(r, expect.model.empty() ? any_value() : one_of({json_text(expect.model)}, "model"));
  r.expect(",\"sha256\":", order);
  read_json_string(r, made_of(kHex, 64, "sha256", !ok));
  const std::size_t most = !ok ? 0 : expect.predictions > 0 ? expect.predictions : kUnbounded;
  r.expect(",\"classes\":", order);
  read_json_array(r, most, [&] { read_json_number(r, made_of(kDigits, 10, "class", false)); });
  r.expect(",\"labels\":", order);
  read_json_array(r, most, [&] { read_json_string(r, any_value()); });
  r.expect(",\"probabilities\":", order);
  read_json_array(r, most, [&] { read_json_number(r, made_of(kNumber, 24, "probability", false)); });
  r.expect("}", order);
  r.next();
  throw Misfit{"text after the row"};
}

}  // namespace

std::string partial_row_problem(ResultFormat format, const std::string& tail, std::size_t csv_columns,
                                const TailExpectations& expect) {
  TailReader reader(tail);
  try {
    if (format == ResultFormat::Csv) read_csv_row(reader, csv_columns, expect);
    else read_json_row(reader, expect);
  } catch (const EndOfTail&) {
    return "";
  } catch (const Misfit& m) {
    return m.problem;
  }
  return "";
}

std::string partial_header_problem(const std::string& tail, const TailExpectations& expect) {
  std::string header = expect.csv_header;
  for (int topk = 1; expect.csv_header.empty() && header.size() <= tail.size(); ++topk)
    header = RowFormat(ResultFormat::Csv, topk).header();  // any --topk: one long enough
  if (header.compare(0, tail.size(), tail) == 0) return "";
  return expect.csv_header.empty() ? "not the start of a result header"
                                   : "not the start of this run's header (--topk differs?)";
}

}  // namespace vitscope::batch
