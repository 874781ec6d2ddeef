// Keeping effects and counters, and writing them as the JSON the control endpoints serve.
#include "sandbox/ledger.hpp"

#include "common/json_text.hpp"
#include "sandbox/clock.hpp"

namespace rescind::sandbox {
namespace {

constexpr std::array<std::string_view, action_count> action_names{"refund", "cancel", "restock", "email",
                                                                  "sms",    "staff",  "ticket",  "record"};

void append_effect(std::string& out, const Effect& effect) {
  out += "{\"provider\":";
  common::append_json_string(out, effect.provider);
  out += ",\"action\":\"";
  out += action_name(effect.action);
  out += "\",\"job_id\":";
  common::append_json_string(out, effect.job_id);
  if (effect.amount_minor) {
    out += ",\"amount_minor\":";
    out += std::to_string(*effect.amount_minor);
  }
  if (!effect.currency.empty()) {
    out += ",\"currency\":";
    common::append_json_string(out, effect.currency);
  }
  out += ",\"ref\":";
  common::append_json_string(out, effect.ref);
  if (!effect.to.empty()) {
    out += ",\"to\":";
    common::append_json_string(out, effect.to);
  }
  if (!effect.text.empty()) {
    out += ",\"text\":";
    common::append_json_string(out, effect.text);
  }
  if (!effect.status.empty()) {
    out += ",\"status\":";
    common::append_json_string(out, effect.status);
  }
  out += ",\"at\":\"";
  append_rfc3339_ms(out, effect.at);
  out += "\"}";
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
  std::string out;
  out.reserve(16 + effects_.size() * 160);
  out += "{\"effects\":[";
  bool first = true;
  for (const auto& effect : effects_) {
    if (!filter.job_id.empty() && effect.job_id != filter.job_id) continue;
    if (!filter.provider.empty() && effect.provider != filter.provider) continue;
    if (!first) out.push_back(',');
    first = false;
    append_effect(out, effect);
  }
  out += ']';
  // Say so rather than let an empty list pass for "nothing happened".
  if (mode_ == LedgerMode::counts) out += ",\"mode\":\"counts\"";
  out += '}';
  return out;
}

std::string Ledger::summary_json() const {
  std::string out;
  out.reserve(256);
  out += "{\"effects\":";
  out += std::to_string(effect_count_);
  out += ",\"requests\":";
  out += std::to_string(requests_);
  out += ",\"by_action\":{";
  for (std::size_t i = 0; i < action_count; ++i) {
    if (i) out.push_back(',');
    out.push_back('"');
    out += action_names[i];
    out += "\":";
    out += std::to_string(by_action_[i]);
  }
  out += "},\"replayed\":";
  out += std::to_string(replayed_);
  out += ",\"faults_injected\":";
  out += std::to_string(faults_injected_);
  out += '}';
  return out;
}

}  // namespace rescind::sandbox
