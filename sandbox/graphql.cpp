// Reading a GraphQL document: a hand-written tokenizer and recursive descent over the parts of
// the grammar Shopify's clients use (one operation, variables, fields, arguments, literals).
#include "sandbox/graphql.hpp"

#include <optional>

namespace rescind::sandbox::graphql {
namespace {

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

struct Token {
  enum class Kind { end, punctuator, name, integer, floating, string };
  Kind kind = Kind::end;
  std::string text;  // the punctuator, the name, the number, or the string's contents
  Location at;
};

class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) { advance(); }

  std::variant<Operation, ParseError> document() {
    Operation operation;
    if (!read_operation(operation)) return std::move(*error_);
    if (token_.kind != Token::Kind::end) {
      if (token_.kind == Token::Kind::name && token_.text == "fragment") {
        return unsupported("Sandbox: fragments are not served");
      }
      return ParseError{"Sandbox: only one operation per document is served", token_.at, true};
    }
    return operation;
  }

 private:
  // ---- tokens
  void skip_ignored() {
    while (at_ < text_.size()) {
      char c = text_[at_];
      if (c == '\n') {
        ++line_;
        line_start_ = ++at_;
      } else if (c == ' ' || c == '\t' || c == '\r' || c == ',') {
        ++at_;
      } else if (c == '#') {
        while (at_ < text_.size() && text_[at_] != '\n') ++at_;
      } else {
        break;
      }
    }
  }

  void advance() {
    skip_ignored();
    token_ = Token{};
    token_.at = Location{line_, static_cast<int>(at_ - line_start_) + 1};
    if (at_ >= text_.size()) return;
    char c = text_[at_];
    if (text_.substr(at_, 3) == "...") {
      token_.kind = Token::Kind::punctuator;
      token_.text = "...";
      at_ += 3;
    } else if (std::string_view("!$()[]{}:=@|&").find(c) != std::string_view::npos) {
      token_.kind = Token::Kind::punctuator;
      token_.text = std::string(1, c);
      ++at_;
    } else if (is_name_start(c)) {
      std::size_t start = at_;
      while (at_ < text_.size() && is_name_char(text_[at_])) ++at_;
      token_.kind = Token::Kind::name;
      token_.text = std::string(text_.substr(start, at_ - start));
    } else if (is_digit(c) || c == '-') {
      read_number();
    } else if (c == '"') {
      read_string();
    } else {
      fail(std::string("Parse error on \"") + c + "\" (unexpected character)");
      at_ = text_.size();
    }
  }

  void read_number() {
    std::size_t start = at_;
    if (text_[at_] == '-') ++at_;
    while (at_ < text_.size() && is_digit(text_[at_])) ++at_;
    bool floating = false;
    if (at_ < text_.size() && text_[at_] == '.') {
      floating = true;
      ++at_;
      while (at_ < text_.size() && is_digit(text_[at_])) ++at_;
    }
    if (at_ < text_.size() && (text_[at_] == 'e' || text_[at_] == 'E')) {
      floating = true;
      ++at_;
      if (at_ < text_.size() && (text_[at_] == '+' || text_[at_] == '-')) ++at_;
      while (at_ < text_.size() && is_digit(text_[at_])) ++at_;
    }
    token_.kind = floating ? Token::Kind::floating : Token::Kind::integer;
    token_.text = std::string(text_.substr(start, at_ - start));
    if (token_.text == "-") fail("Parse error on \"-\"");
  }

  void read_string() {
    if (text_.substr(at_, 3) == "\"\"\"") {
      fail("Sandbox: block strings are not served");
      at_ = text_.size();
      return;
    }
    ++at_;
    std::string out;
    while (at_ < text_.size() && text_[at_] != '"') {
      char c = text_[at_++];
      if (c == '\n') break;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at_ >= text_.size()) break;
      char e = text_[at_++];
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'u': {
          // Kept as written: the sandbox compares ids and enum names, never escaped text.
          out += "\\u";
          break;
        }
        default:
          out += e;
      }
    }
    if (at_ >= text_.size() || text_[at_] != '"') {
      fail("Parse error on unterminated string");
      at_ = text_.size();
      return;
    }
    ++at_;
    token_.kind = Token::Kind::string;
    token_.text = std::move(out);
  }

  // ---- grammar
  bool fail(std::string message) {
    if (!error_) error_ = ParseError{std::move(message), token_.at, false};
    return false;
  }
  ParseError unsupported(std::string message) { return ParseError{std::move(message), token_.at, true}; }
  bool unexpected() {
    if (token_.kind == Token::Kind::end) return fail("Parse error on end of document");
    return fail("Parse error on \"" + token_.text + "\"");
  }

  bool punctuator(std::string_view p) const { return token_.kind == Token::Kind::punctuator && token_.text == p; }
  bool expect(std::string_view p) {
    if (error_) return false;
    if (!punctuator(p)) return unexpected();
    advance();
    return !error_;
  }
  bool name(std::string& out) {
    if (error_) return false;
    if (token_.kind != Token::Kind::name) return unexpected();
    out = token_.text;
    advance();
    return !error_;
  }

  bool read_operation(Operation& operation) {
    operation.at = token_.at;
    if (punctuator("{")) return read_selection_set(operation.selections);
    if (token_.kind != Token::Kind::name || (token_.text != "query" && token_.text != "mutation")) {
      if (token_.kind == Token::Kind::name && (token_.text == "subscription" || token_.text == "fragment")) {
        error_ = unsupported("Sandbox: only queries and mutations are served");
        return false;
      }
      return unexpected();
    }
    operation.kind = token_.text;
    advance();
    if (token_.kind == Token::Kind::name && !name(operation.name)) return false;
    if (punctuator("(")) {
      advance();
      while (!punctuator(")")) {
        if (error_) return false;
        VariableDefinition definition;
        definition.at = token_.at;
        if (!expect("$") || !name(definition.name) || !expect(":") || !read_type(definition.type)) return false;
        if (punctuator("=")) {
          advance();
          if (!read_value(definition.default_value, true)) return false;
        }
        operation.variables.push_back(std::move(definition));
      }
      advance();
    }
    if (punctuator("@")) {
      error_ = unsupported("Sandbox: directives are not served");
      return false;
    }
    return read_selection_set(operation.selections);
  }

  bool read_type(std::string& out) {
    Depth nested(depth_);
    if (depth_ > max_depth) return fail("Sandbox: the document nests too deeply");
    if (punctuator("[")) {
      advance();
      std::string inner;
      if (!read_type(inner) || !expect("]")) return false;
      out = "[" + inner + "]";
    } else {
      std::string named;
      if (!name(named)) return false;
      out = named;
    }
    if (punctuator("!")) {
      advance();
      out += '!';
    }
    return !error_;
  }

  // Nesting is bounded so that a hostile document cannot exhaust the stack.
  struct Depth {
    int& depth;
    explicit Depth(int& d) : depth(d) { ++depth; }
    ~Depth() { --depth; }
  };
  static constexpr int max_depth = 64;

  bool read_selection_set(std::vector<Field>& selections) {
    Depth nested(depth_);
    if (depth_ > max_depth) return fail("Sandbox: the document nests too deeply");
    if (!expect("{")) return false;
    while (!punctuator("}")) {
      if (error_) return false;
      if (punctuator("...")) {
        error_ = unsupported("Sandbox: fragments are not served");
        return false;
      }
      Field field;
      field.at = token_.at;
      if (!name(field.name)) return false;
      if (punctuator(":")) {
        advance();
        field.alias = std::move(field.name);
        if (!name(field.name)) return false;
      }
      if (punctuator("(")) {
        advance();
        while (!punctuator(")")) {
          if (error_) return false;
          Argument argument;
          argument.at = token_.at;
          if (!name(argument.name) || !expect(":") || !read_value(argument.value, false)) return false;
          field.arguments.push_back(std::move(argument));
        }
        advance();
      }
      if (punctuator("@")) {
        error_ = unsupported("Sandbox: directives are not served");
        return false;
      }
      if (punctuator("{")) {
        field.has_selection_set = true;
        if (!read_selection_set(field.selections)) return false;
      }
      selections.push_back(std::move(field));
    }
    if (selections.empty()) return unexpected();
    advance();
    return !error_;
  }

  bool read_value(Value& value, bool constant) {
    Depth nested(depth_);
    if (depth_ > max_depth) return fail("Sandbox: the document nests too deeply");
    if (error_) return false;
    switch (token_.kind) {
      case Token::Kind::end:
        return unexpected();
      case Token::Kind::integer:
        value.kind = Value::Kind::integer;
        value.text = token_.text;
        advance();
        return !error_;
      case Token::Kind::floating:
        value.kind = Value::Kind::floating;
        value.text = token_.text;
        advance();
        return !error_;
      case Token::Kind::string:
        value.kind = Value::Kind::string;
        value.text = token_.text;
        advance();
        return !error_;
      case Token::Kind::name:
        value.text = token_.text;
        value.kind = token_.text == "true" || token_.text == "false" ? Value::Kind::boolean
                     : token_.text == "null"                         ? Value::Kind::null
                                                                     : Value::Kind::enumeration;
        advance();
        return !error_;
      case Token::Kind::punctuator:
        break;
    }
    if (punctuator("$")) {
      if (constant) return unexpected();
      advance();
      value.kind = Value::Kind::variable;
      return name(value.text);
    }
    if (punctuator("[")) {
      advance();
      value.kind = Value::Kind::list;
      while (!punctuator("]")) {
        Value item;
        if (!read_value(item, constant)) return false;
        value.items.push_back(std::move(item));
      }
      advance();
      return !error_;
    }
    if (punctuator("{")) {
      advance();
      value.kind = Value::Kind::object;
      while (!punctuator("}")) {
        std::string key;
        Value item;
        if (!name(key) || !expect(":") || !read_value(item, constant)) return false;
        value.fields.emplace_back(std::move(key), std::move(item));
      }
      advance();
      return !error_;
    }
    return unexpected();
  }

  std::string_view text_;
  std::size_t at_ = 0;
  int line_ = 1;
  std::size_t line_start_ = 0;
  Token token_;
  std::optional<ParseError> error_;
  int depth_ = 0;
};

}  // namespace

const Value* Value::field(std::string_view name) const {
  for (const auto& [key, value] : fields) {
    if (key == name) return &value;
  }
  return nullptr;
}

std::string Value::printed() const {
  switch (kind) {
    case Kind::absent:
      return "";
    case Kind::variable:
      return "$" + text;
    case Kind::null:
      return "null";
    case Kind::string:
      return "\"" + text + "\"";
    case Kind::boolean:
    case Kind::integer:
    case Kind::floating:
    case Kind::enumeration:
      return text;
    case Kind::list: {
      std::string out = "[";
      for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i].printed();
      return out + "]";
    }
    case Kind::object: {
      std::string out = "{";
      for (std::size_t i = 0; i < fields.size(); ++i) {
        out += (i ? ", " : "") + fields[i].first + ": " + fields[i].second.printed();
      }
      return out + "}";
    }
  }
  return "";
}

const Argument* Field::argument(std::string_view argument_name) const {
  for (const auto& argument : arguments) {
    if (argument.name == argument_name) return &argument;
  }
  return nullptr;
}

std::variant<Operation, ParseError> parse(std::string_view document) { return Reader(document).document(); }

std::string_view base_type(std::string_view type) {
  while (!type.empty() && (type.front() == '[')) type.remove_prefix(1);
  while (!type.empty() && (type.back() == ']' || type.back() == '!')) type.remove_suffix(1);
  return type;
}

}  // namespace rescind::sandbox::graphql
