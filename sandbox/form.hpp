// application/x-www-form-urlencoded text, as Stripe and Twilio receive their parameters and
// as the control endpoints read query strings.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rescind::sandbox {

struct FormField {
  std::string name;
  std::string value;
};

class Form {
 public:
  // nullopt when a %-escape is malformed; '+' decodes to a space.
  static std::optional<Form> parse(std::string_view text);

  // The first value given for `name`, or nullptr.
  const std::string* find(std::string_view name) const;
  const std::vector<FormField>& fields() const { return fields_; }

  // The fields ordered by name then value: two forms that differ only in the order of
  // their fields are the same request to a provider.
  std::vector<const FormField*> sorted() const;

 private:
  std::vector<FormField> fields_;
};

// Appends the decoded text; false when a %-escape is malformed.
bool form_decode(std::string_view text, std::string& out);

}  // namespace rescind::sandbox
