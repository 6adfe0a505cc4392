/* fuzz-reply.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A whole answer and an error body, as the network may send them: the
 * reply parser and the error reader must read anything without a crash
 * or a critical, and what they make of it must be text that can be
 * shown.
 */

#include "config.h"

#include <stdint.h>
#include <string.h>

#include "gaze-client-error.h"
#include "gaze-reply.h"

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

static const guint statuses[] = { 400, 401, 403, 404, 408, 429, 500, 502, 503, 504, 418, 302 };

/* The first two lines of the input also serve as the Retry-After and
 * retry-after-ms headers.
 */
static char *
dup_line (const uint8_t *data,
          size_t         size,
          guint          n)
{
  const uint8_t *end = data + size;
  const uint8_t *p = data;
  const uint8_t *eol;

  for (guint i = 0; i < n && p < end; i++)
    {
      eol = memchr (p, '\n', end - p);
      p = eol ? eol + 1 : end;
    }

  eol = memchr (p, '\n', end - p);

  return g_strndup ((const char *)p, MIN ((eol ? eol : end) - p, 64));
}

static void
check_error (GError *error)
{
  g_assert_nonnull (error);
  g_assert_true (error->domain == GAZE_CLIENT_ERROR);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  g_assert_true (error->message[0] != '\0');
  gaze_client_error_get_retry_after_ms (error);
  gaze_client_error_get_request_id (error);
  g_error_free (error);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GBytes) body = g_bytes_new (data, size);
  g_autoptr(GazeReply) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *retry_after = dup_line (data, size, 0);
  g_autofree char *retry_after_ms = dup_line (data, size, 1);
  guint status = statuses[(size > 0 ? data[0] : 0) % G_N_ELEMENTS (statuses)];
  gint64 wait;

  if ((reply = gaze_reply_parse (body, &error)))
    {
      g_autoptr(GazeReply) copy = gaze_reply_copy (reply);

      g_assert_nonnull (reply->content);
      g_assert_cmpstr (copy->content, ==, reply->content);
      if (reply->filtered != NULL)
        g_assert_true (g_utf8_validate (reply->filtered, -1, NULL));
    }
  else
    {
      g_assert_true (g_error_matches (error,
                                      GAZE_CLIENT_ERROR,
                                      GAZE_CLIENT_ERROR_UNREADABLE_REPLY));
    }

  check_error (gaze_client_error_new_from_http (status,
                                                body,
                                                "gpt4v",
                                                retry_after,
                                                retry_after_ms,
                                                "id"));
  check_error (gaze_client_error_new_from_http (status, body, NULL, NULL, NULL, NULL));
  check_error (gaze_client_error_new_from_http (429, body, NULL, retry_after, NULL, NULL));
  check_error (gaze_client_error_new_from_http (400, body, NULL, NULL, NULL, NULL));

  wait = gaze_client_parse_retry_after (retry_after, retry_after_ms, retry_after, NULL);
  g_assert_true (wait >= -1);
  if (wait >= 0)
    {
      g_autofree char *words = gaze_client_format_wait (wait);

      g_assert_true (g_utf8_validate (words, -1, NULL));
    }

  return 0;
}
