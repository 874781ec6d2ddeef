// Which steps a job needs and in which order: plans are data (a table per kind), the
// runner executes any plan by starting each step once the steps it waits for are done.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "jobs/job.hpp"

namespace rescind::jobs {

// What a step does in the domain; configuration maps each role to a provider.
enum class Role : std::uint8_t { refund, cancel, restock, email, sms, staff, ticket, record };
inline constexpr std::size_t role_count = 8;

std::string_view to_string(Role role);

struct Step {
  Role role;
  std::uint32_t after = 0;  // bit i set: waits for the step at index i of the plan
};

struct Plan {
  std::vector<Step> steps;  // every dependency points to an earlier index
};

struct Unplannable {
  std::string_view field;
  std::string_view problem;
};

// The plan for this job, or why this version cannot run it (a kind with no table yet).
std::optional<Plan> plan_for(const Job& job, Unplannable* why = nullptr);

}  // namespace rescind::jobs
