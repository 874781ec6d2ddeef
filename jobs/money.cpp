#include "jobs/money.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>

namespace rescind::jobs {
namespace {

struct Currency {
  std::string_view code;
  int exponent;
};

// Active ISO 4217 codes (list 1), sorted for binary search. Funds codes and metals excluded.
constexpr std::array<Currency, 157> currencies{
    {{"AED", 2}, {"AFN", 2}, {"ALL", 2}, {"AMD", 2}, {"ANG", 2}, {"AOA", 2}, {"ARS", 2}, {"AUD", 2}, {"AWG", 2},
     {"AZN", 2}, {"BAM", 2}, {"BBD", 2}, {"BDT", 2}, {"BGN", 2}, {"BHD", 3}, {"BIF", 0}, {"BMD", 2}, {"BND", 2},
     {"BOB", 2}, {"BRL", 2}, {"BSD", 2}, {"BTN", 2}, {"BWP", 2}, {"BYN", 2}, {"BZD", 2}, {"CAD", 2}, {"CDF", 2},
     {"CHF", 2}, {"CLF", 4}, {"CLP", 0}, {"CNY", 2}, {"COP", 2}, {"CRC", 2}, {"CUC", 2}, {"CUP", 2}, {"CVE", 2},
     {"CZK", 2}, {"DJF", 0}, {"DKK", 2}, {"DOP", 2}, {"DZD", 2}, {"EGP", 2}, {"ERN", 2}, {"ETB", 2}, {"EUR", 2},
     {"FJD", 2}, {"FKP", 2}, {"GBP", 2}, {"GEL", 2}, {"GHS", 2}, {"GIP", 2}, {"GMD", 2}, {"GNF", 0}, {"GTQ", 2},
     {"GYD", 2}, {"HKD", 2}, {"HNL", 2}, {"HTG", 2}, {"HUF", 2}, {"IDR", 2}, {"ILS", 2}, {"INR", 2}, {"IQD", 3},
     {"IRR", 2}, {"ISK", 0}, {"JMD", 2}, {"JOD", 3}, {"JPY", 0}, {"KES", 2}, {"KGS", 2}, {"KHR", 2}, {"KMF", 0},
     {"KPW", 2}, {"KRW", 0}, {"KWD", 3}, {"KYD", 2}, {"KZT", 2}, {"LAK", 2}, {"LBP", 2}, {"LKR", 2}, {"LRD", 2},
     {"LSL", 2}, {"LYD", 3}, {"MAD", 2}, {"MDL", 2}, {"MGA", 2}, {"MKD", 2}, {"MMK", 2}, {"MNT", 2}, {"MOP", 2},
     {"MRU", 2}, {"MUR", 2}, {"MVR", 2}, {"MWK", 2}, {"MXN", 2}, {"MYR", 2}, {"MZN", 2}, {"NAD", 2}, {"NGN", 2},
     {"NIO", 2}, {"NOK", 2}, {"NPR", 2}, {"NZD", 2}, {"OMR", 3}, {"PAB", 2}, {"PEN", 2}, {"PGK", 2}, {"PHP", 2},
     {"PKR", 2}, {"PLN", 2}, {"PYG", 0}, {"QAR", 2}, {"RON", 2}, {"RSD", 2}, {"RUB", 2}, {"RWF", 0}, {"SAR", 2},
     {"SBD", 2}, {"SCR", 2}, {"SDG", 2}, {"SEK", 2}, {"SGD", 2}, {"SHP", 2}, {"SLE", 2}, {"SOS", 2}, {"SRD", 2},
     {"SSP", 2}, {"STN", 2}, {"SVC", 2}, {"SYP", 2}, {"SZL", 2}, {"THB", 2}, {"TJS", 2}, {"TMT", 2}, {"TND", 3},
     {"TOP", 2}, {"TRY", 2}, {"TTD", 2}, {"TWD", 2}, {"TZS", 2}, {"UAH", 2}, {"UGX", 0}, {"USD", 2}, {"UYU", 2},
     {"UZS", 2}, {"VES", 2}, {"VND", 0}, {"VUV", 0}, {"WST", 2}, {"XAF", 0}, {"XCD", 2}, {"XOF", 0}, {"XPF", 0},
     {"YER", 2}, {"ZAR", 2}, {"ZMW", 2}, {"ZWL", 2}}};

constexpr bool sorted() {
  for (std::size_t i = 1; i < currencies.size(); ++i) {
    if (!(currencies[i - 1].code < currencies[i].code)) return false;
  }
  return true;
}
static_assert(sorted(), "currencies must stay sorted: they are binary-searched");

// Stripe's amounts are in "the currency's smallest unit" as Stripe defines it
// (https://docs.stripe.com/currencies, "Zero-decimal currencies" and "Special cases"; the
// lists as quoted by integrations citing it, the ISK text from Stripe's support article
// below). Where that differs from ISO 4217 above —
//   MGA  zero-decimal at Stripe, 2 in ISO: 1500 ariary is amount=1500, not 150000.
//   ISK  0 in ISO, but "ISK will remain a two-decimal currency in the Stripe API, and an ISK
//        amount of 100 will continue to represent 1 króna" (whole krónur only since
//        2023-04-14; support.stripe.com, "Deprecation of fractional ISK charges").
// Stripe's special cases that need no entry: HUF and TWD are zero-decimal at Stripe for
// payouts only (charges and refunds stay two-decimal, as in ISO); UGX is in Stripe's
// zero-decimal list, as in ISO (0). The other zero-decimal currencies (BIF CLP DJF GNF JPY
// KMF KRW PYG RWF VND VUV XAF XOF XPF) and three-decimal ones (BHD JOD KWD OMR TND) agree
// with ISO; Stripe wants the last digit of a three-decimal amount to be 0 (stripe.cpp).
constexpr Currency stripe_differs[] = {{"ISK", 2}, {"MGA", 0}};

// PayPal takes no decimals for HUF and TWD although ISO 4217 gives them two (JPY has none in
// both; PayPal's currency codes reference: "This currency does not support decimals").
constexpr Currency paypal_differs[] = {{"HUF", 0}, {"TWD", 0}};

template <std::size_t N>
std::optional<int> override_or_iso(const Currency (&differs)[N], std::string_view code) {
  for (const auto& c : differs) {
    if (c.code == code) return c.exponent;
  }
  return currency_exponent(code);
}

}  // namespace

std::optional<int> currency_exponent(std::string_view code) {
  auto it = std::lower_bound(currencies.begin(), currencies.end(), code,
                             [](const Currency& c, std::string_view v) { return c.code < v; });
  if (it != currencies.end() && it->code == code) return it->exponent;
  return std::nullopt;
}

std::optional<int> stripe_exponent(std::string_view code) { return override_or_iso(stripe_differs, code); }
std::optional<int> paypal_exponent(std::string_view code) { return override_or_iso(paypal_differs, code); }

std::optional<std::int64_t> rescale_minor(std::int64_t minor, int from_exponent, int to_exponent) {
  std::int64_t amount = minor;
  for (int e = from_exponent; e > to_exponent; --e) {
    if (amount % 10 != 0) return std::nullopt;  // a fraction the other side cannot express
    amount /= 10;
  }
  for (int e = from_exponent; e < to_exponent; ++e) {
    if (__builtin_mul_overflow(amount, std::int64_t{10}, &amount)) return std::nullopt;
  }
  return amount;
}

std::string format_minor(std::int64_t minor, std::string_view currency) {
  return format_minor(minor, currency_exponent(currency).value_or(2));
}

std::string format_minor(std::int64_t minor, int exponent) {
  bool negative = minor < 0;
  auto magnitude = static_cast<unsigned long long>(negative ? -(minor + 1) : minor) + (negative ? 1 : 0);
  std::string digits = std::to_string(magnitude);
  if (exponent > 0) {
    if (digits.size() <= static_cast<std::size_t>(exponent)) {
      digits.insert(0, static_cast<std::size_t>(exponent) + 1 - digits.size(), '0');
    }
    digits.insert(digits.size() - static_cast<std::size_t>(exponent), 1, '.');
  }
  return negative ? "-" + digits : digits;
}

std::optional<std::int64_t> decimal_minor(std::string_view decimal, int exponent) {
  auto dot = decimal.find('.');
  std::string_view whole = decimal.substr(0, dot);
  std::string_view fraction = dot == std::string_view::npos ? std::string_view() : decimal.substr(dot + 1);
  if (whole.empty() || whole.size() > 15) return std::nullopt;
  while (fraction.size() > static_cast<std::size_t>(exponent) && fraction.back() == '0') fraction.remove_suffix(1);
  if (fraction.size() > static_cast<std::size_t>(exponent)) return std::nullopt;
  std::int64_t minor = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') return std::nullopt;
    minor = minor * 10 + (c - '0');
  }
  for (int i = 0; i < exponent; ++i) {
    char c = static_cast<std::size_t>(i) < fraction.size() ? fraction[i] : '0';
    if (c < '0' || c > '9') return std::nullopt;
    minor = minor * 10 + (c - '0');
  }
  return minor;
}

}  // namespace rescind::jobs
