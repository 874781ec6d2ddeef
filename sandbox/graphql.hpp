// A small reader of GraphQL documents for the fake Shopify: one operation, its variable
// definitions and its selection tree with arguments, enough to validate a request against
// the schema of the API version it names, as Shopify's graphql-ruby does. Fragments and
// directives are not read (the sandbox answers that it does not serve them).
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace rescind::sandbox::graphql {

struct Location {
  int line = 1;
  int column = 1;
};

// A literal or a $variable in the document, or a value from the request's JSON variables.
struct Value {
  enum class Kind { absent, variable, null, boolean, integer, floating, string, enumeration, list, object };
  Kind kind = Kind::absent;
  std::string text;          // variable name, number, string contents, enum name; "true"/"false"
  std::vector<Value> items;  // list
  std::vector<std::pair<std::string, Value>> fields;  // object, in the order written

  bool is(Kind k) const { return kind == k; }
  const Value* field(std::string_view name) const;
  // As GraphQL prints it in error messages: true, "text", ENUM, [1, 2], {a: 1}.
  std::string printed() const;
};

struct Argument {
  std::string name;
  Value value;
  Location at;
};

struct Field {
  std::string alias;  // empty: the answer uses `name`
  std::string name;
  std::vector<Argument> arguments;
  std::vector<Field> selections;
  bool has_selection_set = false;
  Location at;

  const std::string& key() const { return alias.empty() ? name : alias; }
  const Argument* argument(std::string_view argument_name) const;
};

struct VariableDefinition {
  std::string name;
  std::string type;     // as written, without spaces: "ID!", "[String!]"
  Value default_value;  // absent when none
  Location at;
};

struct Operation {
  std::string kind = "query";  // "query" or "mutation"
  std::string name;            // empty for an anonymous operation
  std::vector<VariableDefinition> variables;
  std::vector<Field> selections;
  Location at;

  // How graphql-ruby names the operation in error paths: "mutation Cancel", "query".
  std::string path_name() const { return name.empty() ? kind : kind + " " + name; }
  // How it names it in variable errors: "Cancel", "anonymous query".
  std::string display_name() const { return name.empty() ? "anonymous " + kind : name; }
};

struct ParseError {
  std::string message;
  Location at;
  bool unsupported = false;  // valid GraphQL the sandbox does not read (fragments, directives)
};

std::variant<Operation, ParseError> parse(std::string_view document);

// The named type of a type reference: "[ID!]!" → "ID".
std::string_view base_type(std::string_view type);

}  // namespace rescind::sandbox::graphql
