// A small JSON reader for the tests' admin calls (no JSON library is on the test
// classpath): objects become Map, arrays List, numbers Long or Double.
package app.keyway.test

class JsonException(message: String) : Exception(message)

object Json {
    fun parse(text: String): Any? {
        val reader = Reader(text)
        val value = reader.value()
        reader.skipSpace()
        if (reader.pos != text.length) throw JsonException("trailing characters at ${reader.pos}")
        return value
    }

    private class Reader(val s: String) {
        var pos = 0

        fun skipSpace() {
            while (pos < s.length && s[pos].isWhitespace()) pos++
        }

        fun value(): Any? {
            skipSpace()
            if (pos >= s.length) throw JsonException("unexpected end")
            return when (val c = s[pos]) {
                '{' -> obj()
                '[' -> array()
                '"' -> string()
                't' -> literal("true", true)
                'f' -> literal("false", false)
                'n' -> literal("null", null)
                else -> if (c == '-' || c.isDigit()) number() else throw JsonException("unexpected '$c' at $pos")
            }
        }

        fun literal(word: String, value: Any?): Any? {
            if (!s.startsWith(word, pos)) throw JsonException("bad literal at $pos")
            pos += word.length
            return value
        }

        fun number(): Any {
            val start = pos
            while (pos < s.length && (s[pos].isDigit() || s[pos] in "+-.eE")) pos++
            val text = s.substring(start, pos)
            return text.toLongOrNull() ?: text.toDoubleOrNull() ?: throw JsonException("bad number $text")
        }

        fun string(): String {
            pos++ // opening quote
            val out = StringBuilder()
            while (pos < s.length) {
                val c = s[pos++]
                when (c) {
                    '"' -> return out.toString()
                    '\\' -> {
                        val e = s[pos++]
                        when (e) {
                            'n' -> out.append('\n')
                            't' -> out.append('\t')
                            'r' -> out.append('\r')
                            'b' -> out.append('\b')
                            'f' -> out.append('\u000c')
                            'u' -> {
                                out.append(s.substring(pos, pos + 4).toInt(16).toChar())
                                pos += 4
                            }
                            else -> out.append(e)
                        }
                    }
                    else -> out.append(c)
                }
            }
            throw JsonException("unterminated string")
        }

        fun array(): List<Any?> {
            pos++
            val items = mutableListOf<Any?>()
            skipSpace()
            if (s[pos] == ']') { pos++; return items }
            while (true) {
                items.add(value())
                skipSpace()
                when (s[pos++]) {
                    ',' -> continue
                    ']' -> return items
                    else -> throw JsonException("expected , or ] at ${pos - 1}")
                }
            }
        }

        fun obj(): Map<String, Any?> {
            pos++
            val fields = linkedMapOf<String, Any?>()
            skipSpace()
            if (s[pos] == '}') { pos++; return fields }
            while (true) {
                skipSpace()
                val name = string()
                skipSpace()
                if (s[pos++] != ':') throw JsonException("expected : at ${pos - 1}")
                fields[name] = value()
                skipSpace()
                when (s[pos++]) {
                    ',' -> continue
                    '}' -> return fields
                    else -> throw JsonException("expected , or } at ${pos - 1}")
                }
            }
        }
    }
}

/** `obj["a"]` for a parsed object. */
@Suppress("UNCHECKED_CAST")
operator fun Any?.get(name: String): Any? = (this as? Map<String, Any?>)?.get(name)

/** A JSON string literal. */
fun quote(s: String): String =
    "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\""
