/* gaze-sse-parser.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "gaze-sse-parser"

#include "config.h"

#include <string.h>
#include <glib/gi18n.h>
#include <gio/gio.h>

#include "gaze-sse-parser.h"

/* A buffer that once held a very long line or event is given back rather
 * than kept for the rest of the stream.
 */
#define MAX_KEPT_ALLOCATION (1024 * 1024)

static const char bom[] = "\xEF\xBB\xBF";

/* Reads Server-Sent Events the way the WHATWG HTML standard says a browser
 * does (§9.2.6, "Parsing an event stream"), keeping only what the service
 * uses: data lines. The parser works on bytes, so that a UTF-8 character or
 * a CRLF cut between two reads is simply joined again; only whole events
 * leave it, and the service's events are JSON, whose parser checks the
 * encoding.
 */
struct _GazeSseParser
{
  GString *line;
  GString *data;
  gsize    max_event_size;
  guint    n_events;
  guint    bom_length;

  guint    bom_checked : 1;
  guint    skip_lf : 1;
  guint    in_comment : 1;
  guint    done : 1;
  guint    failed : 1;
  guint    finished : 1;
};

/**
 * gaze_sse_parser_new:
 *
 * Returns: (transfer full): a parser at the start of a stream
 */
GazeSseParser *
gaze_sse_parser_new (void)
{
  GazeSseParser *self = g_new0 (GazeSseParser, 1);

  self->line = g_string_new (NULL);
  self->data = g_string_new (NULL);
  self->max_event_size = GAZE_SSE_PARSER_DEFAULT_MAX_EVENT_SIZE;

  return self;
}

void
gaze_sse_parser_free (GazeSseParser *self)
{
  if (self == NULL)
    return;

  g_string_free (self->line, TRUE);
  g_string_free (self->data, TRUE);
  g_free (self);
}

/**
 * gaze_sse_parser_set_max_event_size:
 * @self: a #GazeSseParser
 * @max_event_size: the largest event, and the longest line, in bytes
 *
 * Past this size, gaze_sse_parser_feed() fails with
 * %G_IO_ERROR_MESSAGE_TOO_LARGE. The default is
 * %GAZE_SSE_PARSER_DEFAULT_MAX_EVENT_SIZE.
 */
void
gaze_sse_parser_set_max_event_size (GazeSseParser *self,
                                    gsize          max_event_size)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (max_event_size > 0);

  self->max_event_size = max_event_size;
}

static void
reset_buffer (GString **buffer)
{
  if ((*buffer)->allocated_len > MAX_KEPT_ALLOCATION)
    {
      g_string_free (*buffer, TRUE);
      *buffer = g_string_new (NULL);
    }
  else
    {
      g_string_truncate (*buffer, 0);
    }
}

static gboolean
fail_too_large (GazeSseParser  *self,
                GError        **error)
{
  g_autofree char *limit = g_format_size (self->max_event_size);

  self->failed = TRUE;
  /* Translators: %s is a size, such as “16.8 MB” */
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
               _("The service sent an event larger than %s."),
               limit);

  return FALSE;
}

/* Whether @extra more bytes of the current line still fit, counting the
 * data the event holds already. The same test runs whether a line arrives
 * whole or in pieces, so that where the input is cut never changes the
 * outcome.
 */
static gboolean
fits (GazeSseParser *self,
      gsize          extra)
{
  gsize used = self->data->len + self->line->len;

  return used <= self->max_event_size && extra <= self->max_event_size - used;
}

static void
dispatch (GazeSseParser    *self,
          GazeSseEventFunc  func,
          gpointer          user_data)
{
  if (self->data->len == 0)
    return;

  /* Every data line added a "\n"; the last one is not part of the data. */
  g_string_truncate (self->data, self->data->len - 1);

  if (self->data->len == 6 && memcmp (self->data->str, "[DONE]", 6) == 0)
    {
      self->done = TRUE;
    }
  else
    {
      self->n_events++;
      if (func != NULL)
        func (self->data->str, self->data->len, user_data);
    }

  reset_buffer (&self->data);
}

static gboolean
process_line (GazeSseParser     *self,
              const char        *line,
              gsize              length,
              GazeSseEventFunc   func,
              gpointer           user_data,
              GError           **error)
{
  const char *colon;
  const char *value;
  gsize name_length;
  gsize value_length;

  if (length == 0)
    {
      dispatch (self, func, user_data);
      return TRUE;
    }

  if (line[0] == ':')
    return TRUE;

  /* @line may already be the line buffer, so its length counts once. */
  if (self->data->len > self->max_event_size ||
      length > self->max_event_size - self->data->len)
    return fail_too_large (self, error);

  if ((colon = memchr (line, ':', length)) != NULL)
    {
      name_length = colon - line;
      value = colon + 1;
      value_length = length - name_length - 1;
      if (value_length > 0 && value[0] == ' ')
        {
          value++;
          value_length--;
        }
    }
  else
    {
      name_length = length;
      value = "";
      value_length = 0;
    }

  /* event, id, retry and unknown fields mean nothing to this client. */
  if (name_length == 4 && memcmp (line, "data", 4) == 0)
    {
      g_string_append_len (self->data, value, value_length);
      g_string_append_c (self->data, '\n');
    }

  return TRUE;
}

/* Keeps the start of a line whose end has not arrived yet. */
static gboolean
append_partial (GazeSseParser  *self,
                const char     *bytes,
                gsize           length,
                GError        **error)
{
  if (length == 0)
    return TRUE;

  if (self->line->len == 0 && !self->in_comment && bytes[0] == ':')
    self->in_comment = TRUE;

  /* A comment's text is never needed, so it costs no memory, however long. */
  if (self->in_comment)
    return TRUE;

  if (!fits (self, length))
    return fail_too_large (self, error);

  g_string_append_len (self->line, bytes, length);

  return TRUE;
}

static const char *
find_end_of_line (const char *bytes,
                  gsize       length)
{
  const char *lf = memchr (bytes, '\n', length);
  const char *cr = memchr (bytes, '\r', lf != NULL ? (gsize)(lf - bytes) : length);

  return cr != NULL ? cr : lf;
}

static gboolean
process_bytes (GazeSseParser     *self,
               const char        *bytes,
               gsize              length,
               GazeSseEventFunc   func,
               gpointer           user_data,
               GError           **error)
{
  const char *p = bytes;
  const char *end = bytes + length;

  while (p < end && !self->done)
    {
      const char *eol;
      gboolean ok;

      /* A CR ended the last line; the LF of a CRLF may come in this read. */
      if (self->skip_lf)
        {
          self->skip_lf = FALSE;
          if (*p == '\n')
            {
              p++;
              continue;
            }
        }

      if (!(eol = find_end_of_line (p, end - p)))
        return append_partial (self, p, end - p, error);

      if (self->line->len == 0 && !self->in_comment)
        {
          ok = process_line (self, p, eol - p, func, user_data, error);
        }
      else
        {
          ok = append_partial (self, p, eol - p, error);
          if (ok && !self->in_comment)
            ok = process_line (self, self->line->str, self->line->len, func, user_data, error);
          reset_buffer (&self->line);
        }

      if (!ok)
        return FALSE;

      self->in_comment = FALSE;
      self->skip_lf = *eol == '\r';
      p = eol + 1;
    }

  return TRUE;
}

/**
 * gaze_sse_parser_feed:
 * @self: a #GazeSseParser
 * @bytes: (array length=length): the next bytes of the stream, cut anywhere
 * @length: how many
 * @func: (scope call) (nullable): called for each event the bytes complete
 * @user_data: data for @func
 * @error: a location for a #GError
 *
 * Reads the next bytes of a stream and calls @func for each event they
 * complete. "data: [DONE]" is not an event: it ends the stream, and what
 * follows it is ignored.
 *
 * Returns: %FALSE with %G_IO_ERROR_MESSAGE_TOO_LARGE if an event or a line
 *   is larger than allowed; the parser then refuses all further input
 */
gboolean
gaze_sse_parser_feed (GazeSseParser     *self,
                      const char        *bytes,
                      gsize              length,
                      GazeSseEventFunc   func,
                      gpointer           user_data,
                      GError           **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (bytes != NULL || length == 0, FALSE);
  g_return_val_if_fail (!self->finished, FALSE);

  if (self->failed)
    return fail_too_large (self, error);

  /* A byte-order mark may start the stream, and may itself be cut. */
  while (!self->bom_checked && length > 0)
    {
      if ((guchar)bytes[0] == (guchar)bom[self->bom_length])
        {
          bytes++;
          length--;
          if (++self->bom_length == 3)
            self->bom_checked = TRUE;
          continue;
        }

      self->bom_checked = TRUE;
      if (!process_bytes (self, bom, self->bom_length, func, user_data, error))
        return FALSE;
    }

  if (length == 0)
    return TRUE;

  return process_bytes (self, bytes, length, func, user_data, error);
}

/**
 * gaze_sse_parser_finish:
 * @self: a #GazeSseParser
 *
 * Tells the parser that the stream has ended. An event without the blank
 * line that ends it is dropped, as a browser drops it, except
 * "data: [DONE]", which ends the stream even without its newline.
 *
 * Returns: whether the stream ended with "data: [DONE]"
 */
gboolean
gaze_sse_parser_finish (GazeSseParser *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (self->finished || self->failed || self->done)
    {
      self->finished = TRUE;
      return self->done;
    }

  self->finished = TRUE;

  if (!self->bom_checked && self->bom_length > 0)
    {
      self->bom_checked = TRUE;
      if (!process_bytes (self, bom, self->bom_length, NULL, NULL, NULL))
        return FALSE;
    }

  if (self->line->len > 0 && !self->in_comment &&
      !process_line (self, self->line->str, self->line->len, NULL, NULL, NULL))
    return FALSE;

  if (self->data->len == 7 && memcmp (self->data->str, "[DONE]\n", 7) == 0)
    self->done = TRUE;

  reset_buffer (&self->line);
  reset_buffer (&self->data);

  return self->done;
}

/**
 * gaze_sse_parser_is_done:
 * @self: a #GazeSseParser
 *
 * Returns: whether "data: [DONE]" has ended the stream
 */
gboolean
gaze_sse_parser_is_done (GazeSseParser *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->done;
}

/**
 * gaze_sse_parser_get_n_events:
 * @self: a #GazeSseParser
 *
 * Returns: how many events the parser has handed out
 */
guint
gaze_sse_parser_get_n_events (GazeSseParser *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->n_events;
}
