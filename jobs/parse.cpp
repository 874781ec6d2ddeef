#include "jobs/parse.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

#include "common/time.hpp"
#include "jobs/money.hpp"

namespace rescind::jobs {
namespace {

namespace od = simdjson::ondemand;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Unknown values are walked to validate them; past this depth a payload is refused instead,
// so a hostile "[[[[…" cannot exhaust the stack. Upstream additions nest a few levels at most.
constexpr int max_unknown_depth = 32;

// The first character of `text` that would break a line or a layout where names and reasons
// are shown as written: an SMS, an email (a CR LF in a header is an injection), a Slack post.
// C0 controls and DEL, C1 controls (U+0080–U+009F) and the Unicode line and paragraph
// separators U+2028/U+2029. `text` is valid UTF-8 (simdjson checked it).
struct ControlCharacter {
  std::size_t byte;
  unsigned code_point;
};
std::optional<ControlCharacter> control_character(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) return ControlCharacter{i, c};
    if (c == 0xc2 && i + 1 < text.size()) {
      auto next = static_cast<unsigned char>(text[i + 1]);
      if (next >= 0x80 && next <= 0x9f) return ControlCharacter{i, next};
    }
    if (c == 0xe2 && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x80) {
      auto last = static_cast<unsigned char>(text[i + 2]);
      if (last == 0xa8 || last == 0xa9) return ControlCharacter{i, 0x2000u + last - 0x80u};
    }
  }
  return std::nullopt;
}

// A date that does not exist (February 31st) is refused too: the timestamp's number decides
// whether a refund is inside the policy window.
bool is_rfc3339(std::string_view t) { return common::parse_rfc3339_ms(t).has_value(); }

bool is_email(std::string_view e) {
  auto at = e.find('@');
  if (e.size() > 254 || at == 0 || at == std::string_view::npos || e.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  auto domain = e.substr(at + 1);
  auto dot = domain.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == domain.size()) return false;
  for (unsigned char c : e) {
    if (c <= ' ' || c == '<' || c == '>' || c == ',' || c == ';' || c == '"' || c == 0x7f) return false;
  }
  return !control_character(e);
}

bool is_e164(std::string_view p) {
  if (p.size() < 9 || p.size() > 16 || p[0] != '+' || p[1] == '0') return false;
  for (std::size_t i = 1; i < p.size(); ++i) {
    if (!is_digit(p[i])) return false;
  }
  return true;
}

bool is_hostname(std::string_view h) {
  if (h.empty() || h.size() > 253 || h.front() == '.' || h.back() == '.') return false;
  for (char c : h) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' || c == '.')) return false;
  }
  return true;
}

bool is_word(std::string_view w, std::size_t max = 32) {
  if (w.empty() || w.size() > max) return false;
  for (char c : w) {
    if (!((c >= 'a' && c <= 'z') || is_digit(c) || c == '_' || c == '-')) return false;
  }
  return true;
}

bool is_currency_code(std::string_view c) { return c.size() == 3 && currency_exponent(c).has_value(); }

// The dotted name of `key` inside `where`. JSON allows an empty key; it is named "" so that
// a refusal never names no field at all (the fuzzer found `{"":tru,…}`).
std::string path(std::string_view where, std::string_view key) {
  std::string out(where);
  if (!out.empty()) out += '.';
  return key.empty() ? out.append("\"\"") : out.append(key);
}

// Walks one payload field by field; the first defect found is kept and reported.
class Reader {
 public:
  // `keys` is scratch space kept by the parser between jobs: the keys of the objects being read.
  explicit Reader(std::vector<std::string_view>& keys) : keys_(keys) { keys_.clear(); }

  std::optional<InvalidJob> defect;

  bool fail(std::string field, std::string problem) {
    if (!defect) defect = InvalidJob{std::move(field), std::move(problem)};
    return false;
  }

  // A type mismatch names what was expected; anything else is broken JSON at that field.
  bool mismatch(simdjson::error_code error, const std::string& field, const char* expected) {
    if (error == simdjson::INCORRECT_TYPE || error == simdjson::NUMBER_ERROR) return fail(field, expected);
    return broken(field, error);
  }

  bool broken(std::string_view field, simdjson::error_code error) {
    return fail(std::string(field), std::string("is not valid JSON (") + simdjson::error_message(error) + ")");
  }

  bool string(od::value& v, const std::string& field, std::string& out, std::size_t max = 1024) {
    std::string_view s;
    if (auto error = v.get_string().get(s)) return mismatch(error, field, "must be a string");
    if (s.size() > max) return fail(field, "is longer than " + std::to_string(max) + " characters");
    out.assign(s);
    return true;
  }

  // Text that reaches people as written (names, reasons): a string without control characters.
  bool text(od::value& v, const std::string& field, std::string& out, std::size_t max) {
    if (!string(v, field, out, max)) return false;
    if (auto control = control_character(out)) {
      char code[16];
      std::snprintf(code, sizeof code, "U+%04X", control->code_point);
      return fail(field, std::string("contains the control character ") + code + " at byte " +
                             std::to_string(control->byte) + "; it would reach SMS, email and Slack as written");
    }
    return true;
  }

  bool integer(od::value& v, const std::string& field, std::int64_t& out) {
    od::json_type type;
    if (auto error = v.type().get(type)) return mismatch(error, field, "must be an integer");
    if (type != od::json_type::number) return fail(field, "must be an integer");
    if (auto error = v.get_int64().get(out))
      return mismatch(error, field, "must be an integer (minor units, no decimals)");
    return true;
  }

  bool object(od::value& v, const std::string& field, od::object& out) {
    if (auto error = v.get_object().get(out)) return mismatch(error, field, "must be an object");
    return true;
  }

  bool is_null(od::value& v) {
    bool null = false;
    return !v.is_null().get(null) && null;
  }

  // Calls on_field(key, value) for each member; stops at the first defect. `where` is the
  // object's dotted path ("" for the root). on_field passes the keys it does not read to
  // unknown(): On-Demand would skip their values without looking at them.
  template <class OnField>
  bool each_field(od::object& obj, std::string_view where, OnField&& on_field) {
    auto first_key = keys_.size();
    for (auto member : obj) {
      od::field f;
      std::string_view key;
      if (auto error = std::move(member).get(f)) return broken(where.empty() ? "payload" : where, error);
      if (auto error = f.unescaped_key().get(key)) return broken(where.empty() ? "payload" : where, error);
      keys_.push_back(key);
      od::value value = f.value();
      if (!on_field(key, value)) return false;
    }
    if (auto repeated = repeated_key(first_key)) {
      return fail(path(where, *repeated), "appears more than once; a job has one value per field");
    }
    return !defect;
  }

  // A field the job does not use (upstream may add to the schema): ignored, but it must be
  // valid JSON, or the payload is not one JSON document and another reader would see another job.
  bool unknown(od::value& v, std::string_view where, std::string_view key) { return skip(v, where, key, 0); }

 private:
  // Validates a value by visiting all of it; a defect names the unknown field it is in.
  bool skip(od::value& v, std::string_view where, std::string_view key, int depth) {
    od::json_type type;
    if (auto error = v.type().get(type)) return broken(path(where, key), error);
    switch (type) {
      case od::json_type::object: {
        if (depth >= max_unknown_depth) return too_deep(where, key);
        od::object obj;
        if (auto error = v.get_object().get(obj)) return broken(path(where, key), error);
        auto first_key = keys_.size();
        for (auto member : obj) {
          od::field f;
          std::string_view inner;
          if (auto error = std::move(member).get(f)) return broken(path(where, key), error);
          if (auto error = f.unescaped_key().get(inner)) return broken(path(where, key), error);
          keys_.push_back(inner);
          od::value value = f.value();
          if (!skip(value, where, key, depth + 1)) return false;
        }
        if (auto repeated = repeated_key(first_key)) {
          return fail(path(where, key), "repeats the key '" + std::string(*repeated) + "' in one object");
        }
        return true;
      }
      case od::json_type::array: {
        if (depth >= max_unknown_depth) return too_deep(where, key);
        od::array items;
        if (auto error = v.get_array().get(items)) return broken(path(where, key), error);
        for (auto element : items) {
          od::value value;
          if (auto error = element.get(value)) return broken(path(where, key), error);
          if (!skip(value, where, key, depth + 1)) return false;
        }
        return true;
      }
      case od::json_type::string: {
        std::string_view s;
        if (auto error = v.get_string().get(s)) return broken(path(where, key), error);
        return true;
      }
      case od::json_type::number: {
        od::number n;
        if (auto error = v.get_number().get(n)) return broken(path(where, key), error);
        return true;
      }
      case od::json_type::boolean: {
        bool b;
        if (auto error = v.get_bool().get(b)) return broken(path(where, key), error);
        return true;
      }
      case od::json_type::null: {
        bool null = false;
        if (auto error = v.is_null().get(null)) return broken(path(where, key), error);
        if (!null) return broken(path(where, key), simdjson::INCORRECT_TYPE);
        return true;
      }
    }
    return broken(path(where, key), simdjson::TAPE_ERROR);
  }

  bool too_deep(std::string_view where, std::string_view key) {
    return fail(path(where, key), "nests more than " + std::to_string(max_unknown_depth) + " levels deep");
  }

  // The keys read since `first` (one object's), sorted in place; a key found twice, if any.
  // Sorting keeps a hostile object with thousands of keys at n log n. The views stay valid:
  // On-Demand unescapes every key into the parser's buffer, which lives until the next job.
  std::optional<std::string_view> repeated_key(std::size_t first) {
    auto begin = keys_.begin() + static_cast<std::ptrdiff_t>(first);
    std::optional<std::string_view> repeated;
    if (keys_.size() - first > 1) {
      std::sort(begin, keys_.end());
      if (auto it = std::adjacent_find(begin, keys_.end()); it != keys_.end()) repeated = *it;
    }
    keys_.resize(first);
    return repeated;
  }

  std::vector<std::string_view>& keys_;
};

struct Seen {
  bool v = false, id = false, kind = false, occurred_at = false, shop = false, order = false;
  bool refund_amount = false, notify = false, payment = false;
};

class JobReader {
 public:
  explicit JobReader(Reader& r) : r_(r) {}

  bool top(std::string_view key, od::value& v) {
    if (key == "v") {
      seen.v = true;
      std::int64_t version = 0;
      if (!r_.integer(v, "v", version)) return false;
      if (version != 1)
        return r_.fail("v", "schema version " + std::to_string(version) + " is not supported (expected 1)");
    } else if (key == "id") {
      seen.id = true;
      if (!r_.string(v, "id", job.id, 1024)) return false;
      if (!is_safe_id(job.id))
        return r_.fail("id", "must be 1-128 characters of A-Z a-z 0-9 . _ : -, the first a letter or digit");
    } else if (key == "kind") {
      seen.kind = true;
      std::string kind;
      if (!r_.string(v, "kind", kind, 64)) return false;
      auto parsed = kind_from(kind);
      if (!parsed)
        return r_.fail(
            "kind",
            "'" + kind + "' is not one of order.canceled, refund.requested, dispute.opened, order.unfulfillable");
      job.kind = *parsed;
    } else if (key == "occurred_at") {
      seen.occurred_at = true;
      if (!r_.string(v, "occurred_at", job.occurred_at, 64)) return false;
      if (!is_rfc3339(job.occurred_at))
        return r_.fail("occurred_at",
                       "'" + job.occurred_at + "' is not an RFC 3339 timestamp like 2026-11-22T16:00:00Z");
    } else if (key == "shop") {
      seen.shop = true;
      return shop(v);
    } else if (key == "order") {
      seen.order = true;
      return order(v);
    } else if (key == "customer") {
      return customer(v);
    } else if (key == "payment") {
      if (r_.is_null(v)) return true;
      seen.payment = true;
      return payment(v);
    } else if (key == "refund") {
      if (r_.is_null(v)) return true;
      return refund(v);
    } else if (key == "reason") {
      if (r_.is_null(v)) return true;
      if (!r_.text(v, "reason", job.reason, 64)) return false;
    } else if (key == "dispute") {
      if (r_.is_null(v)) return true;
      return dispute(v);
    } else if (key == "notify") {
      if (r_.is_null(v)) return true;
      seen.notify = true;
      return notify(v);
    } else {
      return r_.unknown(v, "", key);  // ignored, upstream may add to the schema, but valid
    }
    return true;
  }

  // Checks that need the whole job: presence, and relations between fields.
  bool finish() {
    if (!seen.v) return r_.fail("v", "is required");
    if (!seen.id) return r_.fail("id", "is required");
    if (!seen.kind) return r_.fail("kind", "is required");
    if (!seen.occurred_at) return r_.fail("occurred_at", "is required");
    if (!seen.shop) return r_.fail("shop", "is required");
    if (!seen.order) return r_.fail("order", "is required");
    if (!seen.refund_amount) job.refund.amount_minor = job.order.total_minor;
    if (job.refund.amount_minor > job.order.total_minor) {
      return r_.fail("refund.amount_minor", std::to_string(job.refund.amount_minor) + " is more than the order total " +
                                                std::to_string(job.order.total_minor));
    }
    if (!seen.notify) {
      job.notify = job.kind == Kind::dispute_opened ? Notify{false, false, true} : Notify{true, true, true};
    }
    if (job.order.paid() && !seen.payment) return r_.fail("payment", "is required for a paid order");
    if (job.notify.email && job.customer.email.empty())
      return r_.fail("customer.email", "is required to notify by email");
    if (job.notify.sms && job.customer.phone.empty()) return r_.fail("customer.phone", "is required to notify by sms");
    return true;
  }

  Job job;
  Seen seen;

 private:
  bool shop(od::value& v) {
    od::object obj;
    if (!r_.object(v, "shop", obj)) return false;
    bool platform = false, domain = false;
    bool ok = r_.each_field(obj, "shop", [&](std::string_view key, od::value& f) {
      if (key == "platform") {
        platform = true;
        if (!r_.string(f, "shop.platform", job.shop.platform, 32)) return false;
        if (!is_word(job.shop.platform)) return r_.fail("shop.platform", "must be a lowercase name like shopify");
      } else if (key == "domain") {
        domain = true;
        if (!r_.string(f, "shop.domain", job.shop.domain, 253)) return false;
        if (!is_hostname(job.shop.domain))
          return r_.fail("shop.domain", "'" + job.shop.domain + "' is not a host name");
      } else {
        return r_.unknown(f, "shop", key);
      }
      return true;
    });
    if (!ok) return false;
    if (!platform) return r_.fail("shop.platform", "is required");
    if (!domain) return r_.fail("shop.domain", "is required");
    return true;
  }

  bool order(od::value& v) {
    od::object obj;
    if (!r_.object(v, "order", obj)) return false;
    bool id = false, currency = false, total = false, financial = false, fulfillment = false;
    bool ok = r_.each_field(obj, "order", [&](std::string_view key, od::value& f) {
      auto& o = job.order;
      if (key == "id") {
        id = true;
        if (!r_.string(f, "order.id", o.id, 1024)) return false;
        if (!is_safe_id(o.id))
          return r_.fail("order.id", "must be 1-128 characters of A-Z a-z 0-9 . _ : -, the first a letter or digit");
      } else if (key == "name") {
        return r_.text(f, "order.name", o.name, 128);
      } else if (key == "created_at") {
        if (r_.is_null(f)) return true;
        if (!r_.string(f, "order.created_at", o.created_at, 64)) return false;
        if (!is_rfc3339(o.created_at))
          return r_.fail("order.created_at", "'" + o.created_at + "' is not an RFC 3339 timestamp");
      } else if (key == "currency") {
        currency = true;
        if (!r_.string(f, "order.currency", o.currency, 16)) return false;
        if (!is_currency_code(o.currency))
          return r_.fail("order.currency", "'" + o.currency + "' is not an ISO 4217 currency code");
      } else if (key == "total_minor") {
        total = true;
        if (!r_.integer(f, "order.total_minor", o.total_minor)) return false;
        if (o.total_minor < 0) return r_.fail("order.total_minor", "must not be negative");
      } else if (key == "financial_status") {
        financial = true;
        if (!r_.string(f, "order.financial_status", o.financial_status, 32)) return false;
        if (!is_word(o.financial_status)) return r_.fail("order.financial_status", "must be a status like paid");
      } else if (key == "fulfillment_status") {
        fulfillment = true;
        if (r_.is_null(f)) {  // Shopify sends null for "nothing fulfilled yet"
          o.fulfillment_status = "unfulfilled";
          return true;
        }
        if (!r_.string(f, "order.fulfillment_status", o.fulfillment_status, 32)) return false;
        if (!is_word(o.fulfillment_status))
          return r_.fail("order.fulfillment_status", "must be a status like unfulfilled");
      } else if (key == "line_items") {
        return line_items(f);
      } else {
        return r_.unknown(f, "order", key);
      }
      return true;
    });
    if (!ok) return false;
    if (!id) return r_.fail("order.id", "is required");
    if (!currency) return r_.fail("order.currency", "is required");
    if (!total) return r_.fail("order.total_minor", "is required");
    if (!financial) return r_.fail("order.financial_status", "is required");
    if (!fulfillment) return r_.fail("order.fulfillment_status", "is required");
    return true;
  }

  bool line_items(od::value& v) {
    od::array items;
    if (v.get_array().get(items)) return r_.fail("order.line_items", "must be an array");
    std::size_t index = 0;
    for (auto element : items) {
      std::string where = "order.line_items[" + std::to_string(index++) + "]";
      od::value item_value;
      od::object item;
      if (element.get(item_value) || !r_.object(item_value, where, item)) return r_.fail(where, "must be an object");
      LineItem line;
      bool quantity = false;
      bool ok = r_.each_field(item, where, [&](std::string_view key, od::value& f) {
        if (key == "sku") return r_.text(f, where + ".sku", line.sku, 128);
        if (key == "location_id") {
          if (!r_.string(f, where + ".location_id", line.location_id, 128)) return false;
          if (!is_safe_id(line.location_id))
            return r_.fail(where + ".location_id",
                           "must be characters of A-Z a-z 0-9 . _ : -, the first a letter or digit");
        } else if (key == "quantity") {
          quantity = true;
          if (!r_.integer(f, where + ".quantity", line.quantity)) return false;
          if (line.quantity <= 0) return r_.fail(where + ".quantity", "must be positive");
        } else {
          return r_.unknown(f, where, key);
        }
        return true;
      });
      if (!ok) return false;
      if (!quantity) return r_.fail(where + ".quantity", "is required");
      job.order.line_items.push_back(std::move(line));
    }
    return true;
  }

  bool customer(od::value& v) {
    od::object obj;
    if (!r_.object(v, "customer", obj)) return false;
    return r_.each_field(obj, "customer", [&](std::string_view key, od::value& f) {
      auto& c = job.customer;
      if (key == "email") {
        if (r_.is_null(f)) return true;
        if (!r_.string(f, "customer.email", c.email, 254)) return false;
        if (!is_email(c.email)) return r_.fail("customer.email", "is not an email address");
      } else if (key == "phone") {
        if (r_.is_null(f)) return true;
        if (!r_.string(f, "customer.phone", c.phone, 16)) return false;
        if (!is_e164(c.phone)) return r_.fail("customer.phone", "must be an E.164 number like +15555550100");
      } else if (key == "name") {
        if (r_.is_null(f)) return true;
        return r_.text(f, "customer.name", c.name, 256);
      } else {
        return r_.unknown(f, "customer", key);
      }
      return true;
    });
  }

  bool payment(od::value& v) {
    od::object obj;
    if (!r_.object(v, "payment", obj)) return false;
    bool provider = false, reference = false;
    bool ok = r_.each_field(obj, "payment", [&](std::string_view key, od::value& f) {
      auto& p = job.payment;
      if (key == "provider") {
        provider = true;
        if (!r_.string(f, "payment.provider", p.provider, 32)) return false;
        if (!is_word(p.provider)) return r_.fail("payment.provider", "must be a lowercase name like stripe");
      } else if (key == "reference") {
        reference = true;
        if (!r_.string(f, "payment.reference", p.reference, 1024)) return false;
        if (!is_safe_id(p.reference, 255))
          return r_.fail("payment.reference",
                         "must be 1-255 characters of A-Z a-z 0-9 . _ : -, the first a letter or digit");
      } else {
        return r_.unknown(f, "payment", key);
      }
      return true;
    });
    if (!ok) return false;
    if (!provider) return r_.fail("payment.provider", "is required");
    if (!reference) return r_.fail("payment.reference", "is required");
    return true;
  }

  bool refund(od::value& v) {
    od::object obj;
    if (!r_.object(v, "refund", obj)) return false;
    return r_.each_field(obj, "refund", [&](std::string_view key, od::value& f) {
      auto& rf = job.refund;
      if (key == "amount_minor") {
        seen.refund_amount = true;
        if (!r_.integer(f, "refund.amount_minor", rf.amount_minor)) return false;
        if (rf.amount_minor < 0) return r_.fail("refund.amount_minor", "must not be negative");
      } else if (key == "reason") {
        if (!r_.string(f, "refund.reason", rf.reason, 64)) return false;
        if (rf.reason != "requested_by_customer" && rf.reason != "duplicate" && rf.reason != "fraudulent") {
          return r_.fail("refund.reason", "must be requested_by_customer, duplicate or fraudulent");
        }
      } else {
        return r_.unknown(f, "refund", key);
      }
      return true;
    });
  }

  bool dispute(od::value& v) {
    od::object obj;
    if (!r_.object(v, "dispute", obj)) return false;
    return r_.each_field(obj, "dispute", [&](std::string_view key, od::value& f) {
      if (key == "reason") return r_.text(f, "dispute.reason", job.dispute.reason, 64);
      if (key == "evidence_due_by") {
        if (!r_.string(f, "dispute.evidence_due_by", job.dispute.evidence_due_by, 64)) return false;
        if (!is_rfc3339(job.dispute.evidence_due_by))
          return r_.fail("dispute.evidence_due_by", "is not an RFC 3339 timestamp");
        return true;
      }
      return r_.unknown(f, "dispute", key);
    });
  }

  bool notify(od::value& v) {
    od::array channels;
    if (v.get_array().get(channels)) return r_.fail("notify", "must be an array of channels");
    std::size_t index = 0;
    for (auto element : channels) {
      std::string where = "notify[" + std::to_string(index++) + "]";
      od::value channel_value;
      std::string_view channel;
      if (element.get(channel_value) || channel_value.get_string().get(channel))
        return r_.fail(where, "must be a string");
      if (channel == "email")
        job.notify.email = true;
      else if (channel == "sms")
        job.notify.sms = true;
      else if (channel == "staff")
        job.notify.staff = true;
      else
        return r_.fail(where, "'" + std::string(channel) + "' is not one of email, sms, staff");
    }
    return true;
  }

  Reader& r_;
};

}  // namespace

bool is_safe_id(std::string_view text, std::size_t max) {
  if (text.empty() || text.size() > max) return false;
  // A leading letter or digit: "." and ".." would be path segments of their own meaning in the
  // provider URLs these ids become part of (/v2/payments/captures/{reference}/refund).
  char first = text.front();
  if (!((first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z') || is_digit(first))) return false;
  for (char c : text) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '.' || c == '_' || c == ':' ||
          c == '-')) {
      return false;
    }
  }
  return true;
}

struct JobParser::Impl {
  ParseLimits limits;
  od::parser parser;
  std::string buffer;                  // the payload plus the padding simdjson reads past the end
  std::vector<std::string_view> keys;  // Reader's scratch space for repeated-key checks
};

JobParser::JobParser(ParseLimits limits) : impl_(std::make_unique<Impl>()) { impl_->limits = limits; }
JobParser::~JobParser() = default;

std::size_t JobParser::max_payload_bytes() const { return impl_->limits.max_payload_bytes; }

ParseResult JobParser::parse(std::string_view payload) {
  if (payload.size() > impl_->limits.max_payload_bytes) {
    return InvalidJob{"payload", std::to_string(payload.size()) + " bytes is over the limit of " +
                                     std::to_string(impl_->limits.max_payload_bytes)};
  }
  auto& buffer = impl_->buffer;
  buffer.resize(payload.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(buffer.data(), payload.data(), payload.size());

  od::document doc;
  if (auto err = impl_->parser.iterate(buffer.data(), payload.size(), buffer.size()).get(doc)) {
    return InvalidJob{"payload", std::string("is not valid JSON: ") + simdjson::error_message(err)};
  }
  od::object root;
  if (auto err = doc.get_object().get(root)) {
    if (err == simdjson::INCORRECT_TYPE) return InvalidJob{"payload", "is not a JSON object"};
    return InvalidJob{"payload", std::string("is not valid JSON: ") + simdjson::error_message(err)};
  }

  Reader reader(impl_->keys);
  JobReader job_reader(reader);
  reader.each_field(root, "", [&](std::string_view key, od::value& value) { return job_reader.top(key, value); });
  // On-Demand stops reading at the root object's closing brace: without this, the second of
  // two jobs written back to back (a producer that forgot the newline) would vanish unread.
  const char* rest = nullptr;
  if (!reader.defect && doc.current_location().get(rest) != simdjson::OUT_OF_BOUNDS) {
    reader.fail("payload", "has content after the job object; an entry holds exactly one job");
  }
  if (!reader.defect) job_reader.finish();
  if (reader.defect) return std::move(*reader.defect);
  return std::move(job_reader.job);
}

}  // namespace rescind::jobs
