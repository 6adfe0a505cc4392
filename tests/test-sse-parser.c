/* test-sse-parser.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The event stream parser against the rules of the WHATWG HTML standard
 * (§9.2.6) and against Azure's transcripts. Every input is fed whole, one
 * byte at a time, and cut in two at every position: where the network
 * cuts a stream must never change what comes out.
 */

#include "config.h"

#include <string.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "gaze-sse-parser.h"

#define MAX_EVENTS 8

/* @input may hold nul bytes, so its length is given by the S() macro. An
 * event of @events is NULL-terminated; @max_event_size is 0 for the
 * default; @too_large says the parser must refuse the input after the
 * events listed.
 */
typedef struct
{
  const char *name;
  const char *input;
  gsize       length;
  const char *events[MAX_EVENTS];
  gboolean    done;
  gsize       max_event_size;
  gboolean    too_large;
} ParserCase;

#define S(text) text, sizeof (text) - 1

static const ParserCase parser_cases[] = {
  /* Framing */
  { "empty", S(""), { NULL }, FALSE },
  { "one-event", S("data: a\n\n"), { "a", NULL }, FALSE },
  { "two-events", S("data: a\n\ndata: b\n\n"), { "a", "b", NULL }, FALSE },
  { "blank-lines-only", S("\n\n\r\n\r\r"), { NULL }, FALSE },
  { "no-blank-line", S("data: a\n"), { NULL }, FALSE },
  { "no-newline", S("data: a"), { NULL }, FALSE },
  { "event-then-partial", S("data: a\n\ndata: b\n"), { "a", NULL }, FALSE },

  /* Line endings: LF, CRLF, CR, mixed, and pairs that look alike */
  { "crlf", S("data: a\r\n\r\n"), { "a", NULL }, FALSE },
  { "cr", S("data: a\r\r"), { "a", NULL }, FALSE },
  { "mixed", S("data: a\r\ndata: b\rdata: c\n\r\n"), { "a\nb\nc", NULL }, FALSE },
  { "cr-cr-lf", S("data: a\r\n\r\ndata: b\r\r\n"), { "a", "b", NULL }, FALSE },
  { "lf-cr", S("data: a\n\rdata: b\n\n"), { "a", "b", NULL }, FALSE },
  { "crlf-events", S("data: a\r\n\r\ndata: b\r\n\r\ndata: [DONE]\r\n\r\n"),
    { "a", "b", NULL }, TRUE },

  /* Fields */
  { "no-space", S("data:a\n\n"), { "a", NULL }, FALSE },
  { "one-space-removed", S("data:  a\n\n"), { " a", NULL }, FALSE },
  { "tab-kept", S("data:\ta\n\n"), { "\ta", NULL }, FALSE },
  { "trailing-space-kept", S("data: a \n\n"), { "a ", NULL }, FALSE },
  { "colon-in-value", S("data: {\"a\":\"b:c\"}\n\n"), { "{\"a\":\"b:c\"}", NULL }, FALSE },
  { "two-data-lines", S("data: a\ndata: b\n\n"), { "a\nb", NULL }, FALSE },
  { "three-data-lines", S("data:a\ndata:\ndata:c\n\n"), { "a\n\nc", NULL }, FALSE },
  { "empty-data", S("data:\n\n"), { "", NULL }, FALSE },
  { "data-without-colon", S("data\n\n"), { "", NULL }, FALSE },
  { "two-empty-data", S("data\ndata\n\n"), { "\n", NULL }, FALSE },
  { "ignored-fields", S("event: message\nid: 7\nretry: 1000\ndata: a\n\n"), { "a", NULL }, FALSE },
  { "only-ignored-fields", S("event: ping\nid: 1\n\n"), { NULL }, FALSE },
  { "unknown-field", S("foo: bar\ndata: a\nbar\n\n"), { "a", NULL }, FALSE },
  { "space-before-colon", S("data : a\n\n"), { NULL }, FALSE },
  { "upper-case", S("DATA: a\n\n"), { NULL }, FALSE },
  { "leading-space", S(" data: a\n\n"), { NULL }, FALSE },

  /* Comments */
  { "comment", S(": keep-alive\n\n"), { NULL }, FALSE },
  { "comment-before", S(": hi\ndata: a\n\n"), { "a", NULL }, FALSE },
  { "comment-between", S("data: a\n: x\ndata: b\n\n"), { "a\nb", NULL }, FALSE },
  { "bare-colon", S(":\ndata: a\n\n"), { "a", NULL }, FALSE },
  { "comment-data-look-alike", S(":data: a\n\n"), { NULL }, FALSE },

  /* Byte-order mark */
  { "bom", S("\xEF\xBB\xBF" "data: a\n\n"), { "a", NULL }, FALSE },
  { "bom-only", S("\xEF\xBB\xBF"), { NULL }, FALSE },
  { "bom-once", S("\xEF\xBB\xBF\xEF\xBB\xBF" "data: a\n\n"), { NULL }, FALSE },
  { "bom-not-later", S("data: a\n\n\xEF\xBB\xBF" "data: b\n\n"), { "a", NULL }, FALSE },
  { "bom-in-data", S("data: \xEF\xBB\xBF" "a\n\n"), { "\xEF\xBB\xBF" "a", NULL }, FALSE },
  { "partial-bom", S("\xEF\xBB" "data: a\n\n"), { NULL }, FALSE },
  { "partial-bom-line", S("\xEF\n" "data: a\n\n"), { "a", NULL }, FALSE },

  /* UTF-8, cut anywhere by the splits */
  { "utf8", S("data: 日本 “é” 🚲\n\n"), { "日本 “é” 🚲", NULL }, FALSE },
  { "utf8-lines", S("data: é\ndata: 🚲\n\n"), { "é\n🚲", NULL }, FALSE },

  /* [DONE] */
  { "done", S("data: [DONE]\n\n"), { NULL }, TRUE },
  { "done-no-space", S("data:[DONE]\n\n"), { NULL }, TRUE },
  { "done-no-newline", S("data: [DONE]"), { NULL }, TRUE },
  { "done-one-newline", S("data: [DONE]\n"), { NULL }, TRUE },
  { "done-cr", S("data: [DONE]\r"), { NULL }, TRUE },
  { "done-after-events", S("data: a\n\ndata: [DONE]"), { "a", NULL }, TRUE },
  { "done-ends-input", S("data: [DONE]\n\ndata: a\n\n"), { NULL }, TRUE },
  { "done-then-garbage", S("data: [DONE]\n\n\xff\xfe garbage"), { NULL }, TRUE },
  { "done-with-space", S("data: [DONE] \n\n"), { "[DONE] ", NULL }, FALSE },
  { "done-lower-case", S("data: [done]\n\n"), { "[done]", NULL }, FALSE },
  { "done-and-more", S("data: [DONE]\ndata: a\n\n"), { "[DONE]\na", NULL }, FALSE },
  { "done-partial", S("data: [DONE"), { NULL }, FALSE },
  { "done-in-comment", S(": data: [DONE]"), { NULL }, FALSE },
  { "done-after-partial", S("data: a\ndata: [DONE]"), { NULL }, FALSE },

  /* The memory cap */
  { "fits", S("data: 0123456789\n\n"), { "0123456789", NULL }, FALSE, 16 },
  { "line-too-long", S("data: a\n\ndata: 0123456789abc\n\n"), { "a", NULL }, FALSE, 16, TRUE },
  { "event-too-large", S("data: 0123456789\ndata: 0123456789\n\n"), { NULL }, FALSE, 16, TRUE },
  { "partial-too-long", S("data: 0123456789abcdef"), { NULL }, FALSE, 16, TRUE },
  { "ignored-field-too-long", S("id: 0123456789abcdefgh\n\n"), { NULL }, FALSE, 16, TRUE },
  { "long-comment-is-free", S(": 0123456789abcdef0123456789abcdef\ndata: a\n\n"),
    { "a", NULL }, FALSE, 16 },
  { "blank-lines-are-free", S("data: 0123456789\n\n\n\n\ndata: 0123456789\n\n"),
    { "0123456789", "0123456789", NULL }, FALSE, 16 },
};

typedef struct
{
  GPtrArray *events;
} Collected;

static void
collect_cb (const char *data,
            gsize       length,
            gpointer    user_data)
{
  Collected *collected = user_data;

  /* The data is nul-terminated as well as counted. */
  g_assert_cmpint (data[length], ==, '\0');
  g_ptr_array_add (collected->events, g_bytes_new (data, length));
}

typedef struct
{
  GPtrArray *events;
  gboolean   done;
  gboolean   too_large;
} Outcome;

static void
outcome_clear (Outcome *outcome)
{
  g_clear_pointer (&outcome->events, g_ptr_array_unref);
}

/* Feeds @input in the pieces that @cuts marks (ascending offsets). */
static void
run_parser (const char  *input,
            gsize        length,
            gsize        max_event_size,
            const gsize *cuts,
            guint        n_cuts,
            Outcome     *outcome)
{
  g_autoptr(GazeSseParser) parser = gaze_sse_parser_new ();
  Collected collected;
  gsize start = 0;

  memset (outcome, 0, sizeof *outcome);
  outcome->events = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  collected.events = outcome->events;

  if (max_event_size > 0)
    gaze_sse_parser_set_max_event_size (parser, max_event_size);

  for (guint i = 0; i <= n_cuts; i++)
    {
      gsize stop = i < n_cuts ? cuts[i] : length;
      g_autoptr(GError) error = NULL;

      if (!gaze_sse_parser_feed (parser,
                                 input + start,
                                 stop - start,
                                 collect_cb,
                                 &collected,
                                 &error))
        {
          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE);
          outcome->too_large = TRUE;
          break;
        }
      g_assert_no_error (error);
      start = stop;
    }

  outcome->done = gaze_sse_parser_finish (parser);
  g_assert_cmpint (outcome->done, ==, gaze_sse_parser_is_done (parser));
  g_assert_cmpuint (gaze_sse_parser_get_n_events (parser), ==, outcome->events->len);
}

static void
assert_outcome (const ParserCase *c,
                const Outcome    *outcome,
                const char       *how)
{
  guint n_expected = 0;

  while (n_expected < MAX_EVENTS && c->events[n_expected] != NULL)
    n_expected++;

  if (outcome->events->len != n_expected)
    g_error ("%s, fed %s: %u events instead of %u", c->name, how, outcome->events->len, n_expected);

  for (guint i = 0; i < n_expected; i++)
    {
      GBytes *event = g_ptr_array_index (outcome->events, i);
      gsize size = 0;
      const char *data = g_bytes_get_data (event, &size);

      if (size != strlen (c->events[i]) || (size > 0 && memcmp (data, c->events[i], size) != 0))
        g_error ("%s, fed %s: event %u is “%.*s” instead of “%s”",
                 c->name, how, i, (int)size, data, c->events[i]);
    }

  if (outcome->done != c->done)
    g_error ("%s, fed %s: [DONE] %s",
             c->name,
             how,
             c->done ? "missed" : "seen where there is none");

  if (outcome->too_large != c->too_large)
    g_error ("%s, fed %s: %s", c->name, how, c->too_large ? "not refused" : "refused");
}

static void
test_parser_case (gconstpointer user_data)
{
  const ParserCase *c = user_data;
  g_autofree gsize *bytes = g_new (gsize, MAX (c->length, 1));
  Outcome outcome;

  run_parser (c->input, c->length, c->max_event_size, NULL, 0, &outcome);
  assert_outcome (c, &outcome, "whole");
  outcome_clear (&outcome);

  for (gsize i = 0; i + 1 < c->length; i++)
    bytes[i] = i + 1;
  run_parser (c->input,
              c->length,
              c->max_event_size,
              bytes,
              c->length > 0 ? c->length - 1 : 0,
              &outcome);
  assert_outcome (c, &outcome, "byte by byte");
  outcome_clear (&outcome);

  for (gsize cut = 0; cut <= c->length; cut++)
    {
      g_autofree char *how = g_strdup_printf ("cut at %" G_GSIZE_FORMAT, cut);

      run_parser (c->input, c->length, c->max_event_size, &cut, 1, &outcome);
      assert_outcome (c, &outcome, how);
      outcome_clear (&outcome);
    }
}

/* Feeds @input whole, byte by byte and cut in two at every @stride-th
 * position, and checks that every way gives the same events as the whole.
 */
static void
assert_cut_anywhere (const char *input,
                     gsize       length,
                     gsize       stride,
                     Outcome    *whole)
{
  g_autofree gsize *bytes = g_new (gsize, MAX (length, 1));
  Outcome outcome;

  run_parser (input, length, 0, NULL, 0, whole);

  for (gsize i = 0; i + 1 < length; i++)
    bytes[i] = i + 1;

  for (gsize cut = 0; cut <= length + stride; cut += stride)
    {
      gsize at = MIN (cut, length);

      if (cut == 0)
        run_parser (input, length, 0, bytes, length > 0 ? length - 1 : 0, &outcome);
      else
        run_parser (input, length, 0, &at, 1, &outcome);

      g_assert_cmpuint (outcome.events->len, ==, whole->events->len);
      for (guint i = 0; i < outcome.events->len; i++)
        g_assert_true (g_bytes_equal (g_ptr_array_index (outcome.events, i),
                                      g_ptr_array_index (whole->events, i)));
      g_assert_cmpint (outcome.done, ==, whole->done);
      g_assert_cmpint (outcome.too_large, ==, whole->too_large);
      outcome_clear (&outcome);
    }
}

/* Lines longer than 64 KiB, a size where many line readers stop. */
static void
test_parser_long_line (void)
{
  g_autoptr(GString) input = g_string_new ("data: ");
  g_autoptr(GString) expected = g_string_new (NULL);
  Outcome outcome;

  for (guint i = 0; i < 100 * 1024; i++)
    g_string_append_c (expected, 'a' + i % 26);
  g_string_append (input, expected->str);
  g_string_append (input, "\ndata: b\n\n: ");
  g_string_append (input, expected->str);
  g_string_append (input, "\ndata: [DONE]\n\n");
  g_string_append (expected, "\nb");

  assert_cut_anywhere (input->str, input->len, 4099, &outcome);
  g_assert_cmpuint (outcome.events->len, ==, 1);
  g_assert_cmpmem (g_bytes_get_data (g_ptr_array_index (outcome.events, 0), NULL),
                   g_bytes_get_size (g_ptr_array_index (outcome.events, 0)),
                   expected->str, expected->len);
  g_assert_true (outcome.done);
  outcome_clear (&outcome);
}

/* The cap holds at its default, without the test having to set it. */
static void
test_parser_default_cap (void)
{
  g_autoptr(GazeSseParser) parser = gaze_sse_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *block = g_malloc (1024 * 1024);
  gboolean ok = TRUE;
  guint blocks = 0;

  memset (block, 'x', 1024 * 1024);
  ok = gaze_sse_parser_feed (parser, "data: ", 6, NULL, NULL, &error);
  g_assert_true (ok);

  while (ok && blocks < 64)
    {
      ok = gaze_sse_parser_feed (parser, block, 1024 * 1024, NULL, NULL, &error);
      blocks++;
    }

  g_assert_false (ok);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE);
  g_assert_cmpuint (blocks, ==, GAZE_SSE_PARSER_DEFAULT_MAX_EVENT_SIZE / (1024 * 1024));

  /* A refused stream stays refused. */
  g_clear_error (&error);
  g_assert_false (gaze_sse_parser_feed (parser, "\n\n", 2, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE);
  g_assert_false (gaze_sse_parser_finish (parser));
}

/* A nul byte is data like any other. */
static void
test_parser_nul (void)
{
  static const char input[] = "data: a\0b\n\n";
  Outcome outcome;

  assert_cut_anywhere (input, sizeof input - 1, 1, &outcome);
  g_assert_cmpuint (outcome.events->len, ==, 1);
  g_assert_cmpmem (g_bytes_get_data (g_ptr_array_index (outcome.events, 0), NULL),
                   g_bytes_get_size (g_ptr_array_index (outcome.events, 0)),
                   "a\0b", 3);
  outcome_clear (&outcome);
}

static char *
replace_newlines (const char *text,
                  const char *newline)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  return g_strjoinv (newline, lines);
}

/* Azure's transcripts, with their LF endings and rewritten with CRLF and
 * CR: each event is a JSON object, and [DONE] ends them.
 */
static void
test_parser_transcript (gconstpointer user_data)
{
  const char *name = user_data;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "streams", name, NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  const char * const newlines[] = { "\n", "\r\n", "\r" };
  guint n_data_lines = 0;
  gsize length = 0;
  Outcome first = { 0 };

  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);

  for (const char *p = contents; (p = strstr (p, "data: ")); p++)
    n_data_lines++;

  for (guint n = 0; n < G_N_ELEMENTS (newlines); n++)
    {
      g_autofree char *input = replace_newlines (contents, newlines[n]);
      Outcome outcome;

      assert_cut_anywhere (input, strlen (input), 1, &outcome);
      g_assert_true (outcome.done);
      g_assert_false (outcome.too_large);
      /* Every data line but [DONE] is one event. */
      g_assert_cmpuint (outcome.events->len, ==, n_data_lines - 1);

      for (guint i = 0; i < outcome.events->len; i++)
        {
          g_autoptr(JsonParser) parser = json_parser_new ();
          gsize size = 0;
          const char *data = g_bytes_get_data (g_ptr_array_index (outcome.events, i), &size);

          json_parser_load_from_data (parser, data, size, &error);
          g_assert_no_error (error);
          g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
        }

      if (n == 0)
        {
          first = outcome;
          continue;
        }

      /* The line endings change nothing. */
      g_assert_cmpuint (outcome.events->len, ==, first.events->len);
      for (guint i = 0; i < outcome.events->len; i++)
        g_assert_true (g_bytes_equal (g_ptr_array_index (outcome.events, i),
                                      g_ptr_array_index (first.events, i)));
      outcome_clear (&outcome);
    }

  outcome_clear (&first);
}

static const char * const transcripts[] = {
  "sse-azure-stream.txt",
  "sse-azure-stream-include-usage.txt",
  "sse-azure-stream-async-filter.txt",
  "sse-azure-stream-content-filtered.txt",
};

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (parser_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/sse-parser/rules/%s", parser_cases[i].name);

      g_test_add_data_func (path, &parser_cases[i], test_parser_case);
    }

  g_test_add_func ("/sse-parser/long-line", test_parser_long_line);
  g_test_add_func ("/sse-parser/default-cap", test_parser_default_cap);
  g_test_add_func ("/sse-parser/nul", test_parser_nul);

  for (guint i = 0; i < G_N_ELEMENTS (transcripts); i++)
    {
      g_autofree char *path = g_strdup_printf ("/sse-parser/transcript/%s", transcripts[i]);

      g_test_add_data_func (path, transcripts[i], test_parser_transcript);
    }

  return g_test_run ();
}
