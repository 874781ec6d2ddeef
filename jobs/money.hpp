// Money is integer minor units plus an ISO 4217 code; the currency's exponent
// (JPY 0, USD 2, KWD 3) is known here and nowhere else.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rescind::jobs {

// Minor-unit exponent of an active ISO 4217 code ("USD" → 2), nullopt if unknown.
std::optional<int> currency_exponent(std::string_view code);

// 14900 USD → "149.00"; 1490 JPY → "1490"; 1234 KWD → "1.234". Providers that take
// decimal strings (PayPal) and message texts use this.
std::string format_minor(std::int64_t minor, std::string_view currency);

}  // namespace rescind::jobs
