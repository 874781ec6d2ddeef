// Writing the fake providers' JSON answers: common::JsonWriter plus the one convention they
// share.
#pragma once
#include <string_view>

#include "common/json_text.hpp"

namespace rescind::sandbox {

// The sandbox keeps a field the request did not give as empty text; the providers answer it
// as null (Zendesk's subject, Stripe's reason, Twilio's unset dates, SendGrid's error field).
inline common::JsonWriter& string_or_null(common::JsonWriter& json, std::string_view text) {
  return text.empty() ? json.null() : json.value(text);
}

}  // namespace rescind::sandbox
