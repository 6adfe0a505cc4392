/* fuzz-sse-parser.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Feeds arbitrary bytes to the event stream parser whole, cut into pieces
 * the input itself decides, and byte by byte, with the default cap and
 * with a small one, and checks that all ways give the same events, the
 * same [DONE] and the same refusal.
 */

#include "config.h"

#include <stdint.h>
#include <string.h>
#include <gio/gio.h>

#include "gaze-sse-parser.h"

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

typedef struct
{
  GByteArray *events;
  gboolean    done;
  gboolean    refused;
} Outcome;

static void
record_cb (const char *data,
           gsize       length,
           gpointer    user_data)
{
  GByteArray *events = user_data;
  guint32 n = length;

  g_assert_true (data[length] == '\0');
  g_byte_array_append (events, (const guint8 *)&n, sizeof n);
  g_byte_array_append (events, (const guint8 *)data, length);
}

/* @step 0: whole; 1: byte by byte; else pieces whose sizes come from the
 * input.
 */
static void
run (const uint8_t *data,
     size_t         size,
     gsize          max_event_size,
     guint          step,
     Outcome       *outcome)
{
  g_autoptr(GazeSseParser) parser = gaze_sse_parser_new ();
  gsize start = 0;
  guint32 state = step;

  outcome->events = g_byte_array_new ();
  outcome->refused = FALSE;
  gaze_sse_parser_set_max_event_size (parser, max_event_size);

  while (start < size || (start == 0 && size == 0))
    {
      g_autoptr(GError) error = NULL;
      gsize piece;

      if (step == 0)
        piece = size;
      else if (step == 1)
        piece = 1;
      else
        {
          state = state * 1103515245 + 12345 + data[start];
          piece = 1 + (state >> 16) % 37;
        }
      piece = MIN (piece, size - start);

      if (!gaze_sse_parser_feed (parser, (const char *)data + start, piece, record_cb,
                                 outcome->events, &error))
        {
          g_assert_true (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE));
          outcome->refused = TRUE;
          break;
        }

      start += piece;
      if (size == 0)
        break;
    }

  outcome->done = gaze_sse_parser_finish (parser);
}

static void
assert_same (const Outcome *a,
             const Outcome *b)
{
  g_assert_true (a->done == b->done);
  g_assert_true (a->refused == b->refused);
  g_assert_true (a->events->len == b->events->len);
  g_assert_true (a->events->len == 0 ||
                 memcmp (a->events->data, b->events->data, a->events->len) == 0);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  gsize caps[2] = { GAZE_SSE_PARSER_DEFAULT_MAX_EVENT_SIZE, 1 + (size > 0 ? data[0] : 0) % 97 };

  for (guint i = 0; i < G_N_ELEMENTS (caps); i++)
    {
      Outcome whole;
      Outcome pieces;

      run (data, size, caps[i], 0, &whole);
      run (data, size, caps[i], 2 + size % 7, &pieces);
      assert_same (&whole, &pieces);
      g_byte_array_unref (pieces.events);

      if (size < 4096)
        {
          Outcome bytes;

          run (data, size, caps[i], 1, &bytes);
          assert_same (&whole, &bytes);
          g_byte_array_unref (bytes.events);
        }

      g_byte_array_unref (whole.events);
    }

  return 0;
}
