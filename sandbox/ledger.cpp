// Keeping effects and counters, and writing them as the JSON the control endpoints serve.
#include "sandbox/ledger.hpp"

#include "common/json_text.hpp"
#include "sandbox/clock.hpp"

namespace rescind::sandbox {
namespace {

constexpr std::array<std::string_view, action_count> action_names{"refund", "cancel", "restock", "email",
                                                                  "sms",    "staff",  "ticket",  "record"};

void write_effect(common::JsonWriter& json, const Effect& effect) {
  json.begin_object().field("provider", effect.provider).field("action", action_name(effect.action));
  json.field("job_id", effect.job_id);
  if (effect.amount_minor) json.field("amount_minor", *effect.amount_minor);
  if (!effect.currency.empty()) json.field("currency", effect.currency);
  json.field("ref", effect.ref);
  if (!effect.to.empty()) json.field("to", effect.to);
  if (!effect.text.empty()) json.field("text", effect.text);
  if (!effect.status.empty()) json.field("status", effect.status);
  json.field("at", format_rfc3339_ms(effect.at)).end_object();
}

}  // namespace

std::string_view action_name(Action action) { return action_names[static_cast<std::size_t>(action)]; }

void Ledger::record(Effect effect) {
  ++effect_count_;
  ++by_action_[static_cast<std::size_t>(effect.action)];
  if (mode_ == LedgerMode::full) effects_.push_back(std::move(effect));
}

void Ledger::set_status(std::string_view provider, std::string_view ref, std::string_view status) {
  for (auto& effect : effects_) {
    if (effect.provider == provider && effect.ref == ref) effect.status = status;
  }
}

void Ledger::clear() {
  effects_.clear();
  by_action_.fill(0);
  effect_count_ = requests_ = replayed_ = faults_injected_ = 0;
}

std::string Ledger::effects_json(const LedgerFilter& filter) const {
  common::JsonWriter json;
  json.begin_object().key("effects").begin_array();
  for (const auto& effect : effects_) {
    if (!filter.job_id.empty() && effect.job_id != filter.job_id) continue;
    if (!filter.provider.empty() && effect.provider != filter.provider) continue;
    write_effect(json, effect);
  }
  json.end_array();
  // Say so rather than let an empty list pass for "nothing happened".
  if (mode_ == LedgerMode::counts) json.field("mode", "counts");
  return json.end_object().take();
}

std::string Ledger::summary_json() const {
  common::JsonWriter json;
  json.begin_object().field("effects", effect_count_).field("requests", requests_).key("by_action").begin_object();
  for (std::size_t i = 0; i < action_count; ++i) json.field(action_names[i], by_action_[i]);
  json.end_object().field("replayed", replayed_).field("faults_injected", faults_injected_);
  return json.end_object().take();
}

}  // namespace rescind::sandbox
