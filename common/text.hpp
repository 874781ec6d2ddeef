// Text that leaves the process for somewhere with rules of its own: a prefix that is still
// valid UTF-8, a terminal that obeys escape sequences, a message that must not echo a secret.
#pragma once
#include <string>
#include <string_view>

namespace rescind::common {

// At most `max_bytes` of `text`, cut before a UTF-8 sequence rather than inside one: a
// byte cut can leave half a character, which JSON log shippers and the DLQ reject.
std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes);

// `text` with every C0 control, DEL and C1 control (U+0080–U+009F, also as a lone byte) written
// as \xNN, and any other byte that is not valid UTF-8 likewise: what a terminal shows then
// is text, never an escape sequence it obeys. keep_line_breaks: '\n' stays, for a layout of
// our own (pretty-printed JSON, whose strings cannot hold a raw line break).
std::string escape_controls(std::string_view text, bool keep_line_breaks = false);

// "scheme://host" of a URL-shaped text, without credentials, port, path or query: what an
// error may say about a URL that can carry a secret (a Redis password, a webhook token).
// "(not a URL)" when there is no "://".
std::string url_for_display(std::string_view text);

}  // namespace rescind::common
