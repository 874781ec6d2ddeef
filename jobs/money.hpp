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
std::string format_minor(std::int64_t minor, int exponent);

// Where a provider counts a currency's minor units differently from ISO 4217 (Stripe: MGA
// whole ariary, ISK in hundredths; PayPal: HUF and TWD whole), its exponent; ISO's otherwise.
std::optional<int> stripe_exponent(std::string_view code);
std::optional<int> paypal_exponent(std::string_view code);

// The same amount in minor units of another exponent, if exact: 150000 MGA (ISO, 2) is
// 1500 at Stripe (0); 150050 has no exact form there (nullopt), and neither has a product
// past int64 (nullopt, never wrapped).
std::optional<std::int64_t> rescale_minor(std::int64_t minor, int from_exponent, int to_exponent);

// A provider's decimal amount ("149.0", "149.00", "149") in minor units of `exponent`;
// nullopt when it is not a plain non-negative decimal or has a fraction finer than the
// currency's. Exact: never through a double.
std::optional<std::int64_t> decimal_minor(std::string_view decimal, int exponent);

}  // namespace rescind::jobs
