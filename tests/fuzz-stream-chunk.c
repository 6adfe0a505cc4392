/* fuzz-stream-chunk.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The chunk reader on arbitrary bytes, taken as the data of one event and
 * as a whole response body cut in two where the input says. The text it
 * hands out is what it keeps, and cutting the body elsewhere changes
 * nothing.
 */

#include "config.h"

#include <stdint.h>
#include <string.h>

#include "gaze-client-error.h"
#include "gaze-stream.h"

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

typedef struct
{
  GString   *taken;
  GazeReply *reply;
  GError    *error;
} Outcome;

static void
outcome_clear (Outcome *outcome)
{
  g_string_free (outcome->taken, TRUE);
  g_clear_pointer (&outcome->reply, gaze_reply_free);
  g_clear_error (&outcome->error);
}

static void
take (GazeStream *stream,
      GString    *taken)
{
  g_autofree char *text = gaze_stream_take_new_text (stream);

  if (text != NULL)
    g_string_append (taken, text);
}

static void
finish (GazeStream *stream,
        Outcome    *outcome)
{
  take (stream, outcome->taken);
  g_assert_true (g_utf8_validate (outcome->taken->str, outcome->taken->len, NULL));
  outcome->reply = gaze_stream_finish (stream, &outcome->error);

  if (outcome->reply != NULL)
    {
      g_assert_null (outcome->error);
      g_assert_cmpstr (outcome->reply->content, ==, outcome->taken->str);
      g_assert_cmpstr (gaze_stream_get_text (stream), ==, outcome->taken->str);
    }
  else
    {
      g_assert_true (outcome->error != NULL && outcome->error->domain == GAZE_CLIENT_ERROR);
      g_assert_true (g_utf8_validate (outcome->error->message, -1, NULL));
    }
}

static void
feed_body (const uint8_t *data,
           size_t         size,
           size_t         cut,
           Outcome       *outcome)
{
  g_autoptr(GazeStream) stream = gaze_stream_new ();

  memset (outcome, 0, sizeof *outcome);
  outcome->taken = g_string_new (NULL);

  if (gaze_stream_feed (stream, (const char *)data, cut, NULL))
    {
      take (stream, outcome->taken);
      gaze_stream_feed (stream, (const char *)data + cut, size - cut, NULL);
    }

  finish (stream, outcome);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  Outcome whole;
  Outcome cut;

  /* One event's data. */
  {
    g_autoptr(GazeStream) stream = gaze_stream_new ();
    Outcome chunk = { g_string_new (NULL), NULL, NULL };

    gaze_stream_read_chunk (stream, (const char *)data, size, NULL);
    finish (stream, &chunk);
    outcome_clear (&chunk);
  }

  /* A response body. */
  feed_body (data, size, size, &whole);
  feed_body (data, size, size > 0 ? (data[size - 1] * 131u + size) % (size + 1) : 0, &cut);

  g_assert_cmpstr (whole.taken->str, ==, cut.taken->str);
  g_assert_true ((whole.reply == NULL) == (cut.reply == NULL));
  if (whole.reply != NULL)
    {
      g_assert_cmpstr (whole.reply->finish_reason, ==, cut.reply->finish_reason);
      g_assert_cmpstr (whole.reply->filtered, ==, cut.reply->filtered);
      g_assert_true (whole.reply->truncated == cut.reply->truncated);
      g_assert_true (whole.reply->total_tokens == cut.reply->total_tokens);
    }
  else
    {
      g_assert_true (whole.error->code == cut.error->code);
    }

  outcome_clear (&whole);
  outcome_clear (&cut);

  return 0;
}
