/* gaze-stream.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "gaze-stream"

#include "config.h"

#include <string.h>
#include <glib/gi18n.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "gaze-client-error.h"
#include "gaze-json.h"
#include "gaze-reply-private.h"
#include "gaze-sse-parser.h"
#include "gaze-stream.h"

#define MAX_SERVICE_MESSAGE 200

/* Reads a streamed answer: the Server-Sent Events of the service and the
 * chat.completion.chunk objects in them, with Azure's quirks (see
 * tests/data/streams/sse-azure-stream.notes.md): a first event without
 * choices that carries the prompt's filter results, events without a
 * delta that only annotate the filtering, a last event without choices
 * that carries the usage, finish_details instead of finish_reason on
 * gpt-4 vision-preview, and events that still come after the finish
 * reason. Everything in an event is checked for its type before it is
 * read.
 */
struct _GazeStream
{
  GazeSseParser *parser;
  JsonParser    *json;
  GString       *text;
  gsize          taken;
  char          *finish_reason;
  char          *last_filtered;
  GError        *error;
  gint64         prompt_tokens;
  gint64         completion_tokens;
  gint64         total_tokens;
  guint          n_chunks;
};

/**
 * gaze_stream_new:
 *
 * Returns: (transfer full): a reader at the start of a streamed answer
 */
GazeStream *
gaze_stream_new (void)
{
  GazeStream *self = g_new0 (GazeStream, 1);

  self->parser = gaze_sse_parser_new ();
  self->json = json_parser_new_immutable ();
  self->text = g_string_new (NULL);
  self->prompt_tokens = -1;
  self->completion_tokens = -1;
  self->total_tokens = -1;

  return self;
}

void
gaze_stream_free (GazeStream *self)
{
  if (self == NULL)
    return;

  g_clear_pointer (&self->parser, gaze_sse_parser_free);
  g_clear_object (&self->json);
  g_string_free (self->text, TRUE);
  g_free (self->finish_reason);
  g_free (self->last_filtered);
  g_clear_error (&self->error);
  g_free (self);
}

/* The service's own words, made safe to show: one line of valid UTF-8,
 * not too long.
 */
static char *
dup_service_message (const char *text)
{
  g_autofree char *flat = NULL;
  const char *end;

  if (text == NULL)
    return NULL;

  flat = g_strdup (text);
  if (!g_utf8_validate (flat, -1, &end))
    flat[end - flat] = '\0';

  for (char *p = flat; *p; p++)
    {
      if ((guchar)*p < 0x20 || *p == 0x7f)
        *p = ' ';
    }

  g_strstrip (flat);
  if (flat[0] == '\0')
    return NULL;

  if (g_utf8_strlen (flat, -1) > MAX_SERVICE_MESSAGE)
    {
      *g_utf8_offset_to_pointer (flat, MAX_SERVICE_MESSAGE - 1) = '\0';
      return g_strconcat (flat, "…", NULL);
    }

  return g_steal_pointer (&flat);
}

static char *
dup_error_field (JsonObject *object,
                 const char *name)
{
  JsonNode *node = gaze_json_get_member (object, name, JSON_NODE_VALUE);

  if (node == NULL)
    return NULL;

  /* The code is sometimes a number, sometimes a number in a string. */
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));

  if (json_node_get_value_type (node) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (node));

  return NULL;
}

/* An {"error": {...}} event ends the stream where it is; the text that
 * came before it stays with the caller.
 */
static GError *
new_error_from_event (JsonNode   *node,
                      const char *json,
                      gsize       length)
{
  JsonObject *object = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  g_autofree char *code = dup_error_field (object, "code");
  g_autofree char *type = dup_error_field (object, "type");
  g_autofree char *message = dup_service_message (gaze_json_get_string (object, "message"));

  if (g_strcmp0 (code, "content_filter") == 0 || g_strcmp0 (type, "content_filter") == 0)
    {
      g_autofree char *categories = gaze_client_describe_error_filter (object);

      if (categories[0] != '\0')
        {
          g_autofree char *text = NULL;

          text = g_strdup_printf (_("Azure’s content filter stopped the answer: %s."),
                                  categories);

          return gaze_client_error_new_literal (GAZE_CLIENT_ERROR_CONTENT_FILTERED, text, NULL);
        }

      return gaze_client_error_new_literal (GAZE_CLIENT_ERROR_CONTENT_FILTERED,
                                            _("Azure’s content filter stopped the answer."),
                                            NULL);
    }

  /* A rate limit reads the same whether it came as a status or as an
   * event, and the event has the body's shape.
   */
  if (g_strcmp0 (code, "429") == 0 ||
      g_strcmp0 (code, "rate_limit_exceeded") == 0 ||
      g_strcmp0 (type, "rate_limit_exceeded") == 0)
    {
      g_autoptr(GBytes) body = g_bytes_new (json, length);

      return gaze_client_error_new_from_http (429, body, NULL, NULL, NULL, NULL);
    }

  if (message != NULL)
    {
      g_autofree char *text = NULL;

      text = g_strdup_printf (_("Azure OpenAI stopped the answer with an error: “%s”. "
                                "Try again in a moment."),
                              message);

      return gaze_client_error_new_literal (GAZE_CLIENT_ERROR_SERVER_ERROR, text, NULL);
    }

  return gaze_client_error_new_literal (GAZE_CLIENT_ERROR_SERVER_ERROR,
                                        _("Azure OpenAI stopped the answer with an error on "
                                          "its side. Try again in a moment."),
                                        NULL);
}

static gboolean
is_blank (const char *json,
          gsize       length)
{
  for (gsize i = 0; i < length; i++)
    {
      if (!g_ascii_isspace (json[i]))
        return FALSE;
    }

  return TRUE;
}

/* The service asks for one choice; its index is 0 when it says one. */
static JsonObject *
find_first_choice (JsonObject *root)
{
  JsonNode *choices = gaze_json_get_member (root, "choices", JSON_NODE_ARRAY);
  JsonArray *array;

  if (choices == NULL)
    return NULL;

  array = json_node_get_array (choices);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      JsonObject *choice;
      JsonNode *index;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        continue;

      choice = json_node_get_object (element);
      index = gaze_json_get_member (choice, "index", JSON_NODE_VALUE);
      if (index != NULL &&
          (json_node_get_value_type (index) != G_TYPE_INT64 || json_node_get_int (index) != 0))
        continue;

      return choice;
    }

  return NULL;
}

static gboolean
read_choice (GazeStream  *self,
             JsonObject  *choice,
             GError     **error)
{
  JsonObject *delta = gaze_json_get_object (choice, "delta");
  JsonObject *results = gaze_json_get_object (choice, "content_filter_results");
  g_autofree char *reason = NULL;
  g_autofree char *described = NULL;

  if (delta != NULL && json_object_has_member (delta, "content"))
    {
      JsonNode *content = json_object_get_member (delta, "content");

      if (!JSON_NODE_HOLDS_NULL (content))
        {
          if (JSON_NODE_TYPE (content) != JSON_NODE_VALUE ||
              json_node_get_value_type (content) != G_TYPE_STRING)
            {
              g_propagate_error (error, gaze_client_error_new_unreadable (NULL));
              return FALSE;
            }

          g_string_append (self->text, json_node_get_string (content));
        }
    }

  /* Default filtering marks a category on the chunk it held back;
   * asynchronous filtering marks it on an annotation that may come later
   * than the text, with or after the finish reason. The last category
   * named is the one that stopped the answer.
   */
  if (results != NULL)
    {
      described = gaze_client_describe_filter_results (results);
      if (described[0] != '\0')
        {
          g_free (self->last_filtered);
          self->last_filtered = g_strdup (described);
        }
    }

  /* A filter that stops the answer has the last word; anything else does
   * not replace a reason already given.
   */
  if ((reason = gaze_reply_dup_finish_reason (choice)) != NULL &&
      (self->finish_reason == NULL || g_str_equal (reason, "content_filter")))
    {
      g_free (self->finish_reason);
      self->finish_reason = g_steal_pointer (&reason);
    }

  return TRUE;
}

/**
 * gaze_stream_read_chunk:
 * @self: a #GazeStream
 * @json: (array length=length): the data of one event
 * @length: its length
 * @error: a location for a #GError in %GAZE_CLIENT_ERROR
 *
 * Reads one chat.completion.chunk (or an error event) and adds its text
 * to what has arrived.
 *
 * Returns: %FALSE with @error set if the event is not JSON, has text that
 *   is not a string, or is an error from the service; the stream then
 *   takes no more input
 */
gboolean
gaze_stream_read_chunk (GazeStream  *self,
                        const char  *json,
                        gsize        length,
                        GError     **error)
{
  JsonObject *object;
  JsonObject *usage;
  JsonObject *choice;
  JsonNode *root;
  JsonNode *error_node;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (json != NULL || length == 0, FALSE);

  if (self->error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->error));
      return FALSE;
    }

  /* An empty event is a keep-alive at most. */
  if (is_blank (json, length))
    return TRUE;

  root = gaze_json_parse_untrusted (self->json, json, length);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      self->error = gaze_client_error_new_unreadable (NULL);
      g_propagate_error (error, g_error_copy (self->error));
      return FALSE;
    }

  object = json_node_get_object (root);
  self->n_chunks++;

  if ((error_node = json_object_get_member (object, "error")) && !JSON_NODE_HOLDS_NULL (error_node))
    {
      self->error = new_error_from_event (error_node, json, length);
      g_propagate_error (error, g_error_copy (self->error));
      return FALSE;
    }

  /* Only the last event carries the usage, when it was asked for; the
   * others say "usage": null or nothing.
   */
  if ((usage = gaze_json_get_object (object, "usage")))
    {
      g_autoptr(GazeReply) counts = gaze_reply_new ();

      gaze_reply_read_usage (counts, usage);
      self->prompt_tokens = counts->prompt_tokens;
      self->completion_tokens = counts->completion_tokens;
      self->total_tokens = counts->total_tokens;
    }

  /* The prompt's filter results and the usage come with no choice. */
  if (!(choice = find_first_choice (object)))
    return TRUE;

  if (!read_choice (self, choice, &self->error))
    {
      g_propagate_error (error, g_error_copy (self->error));
      return FALSE;
    }

  return TRUE;
}

static void
event_cb (const char *data,
          gsize       length,
          gpointer    user_data)
{
  GazeStream *self = user_data;

  /* After an error, the events that follow in the same read are dropped. */
  if (self->error == NULL)
    gaze_stream_read_chunk (self, data, length, NULL);
}

/**
 * gaze_stream_feed:
 * @self: a #GazeStream
 * @bytes: (array length=length): the next bytes of the response body
 * @length: how many
 * @error: a location for a #GError in %GAZE_CLIENT_ERROR
 *
 * Returns: %FALSE with @error set if the stream cannot go on: an event
 *   could not be read, was too large, or was an error from the service
 */
gboolean
gaze_stream_feed (GazeStream  *self,
                  const char  *bytes,
                  gsize        length,
                  GError     **error)
{
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (bytes != NULL || length == 0, FALSE);

  if (self->error == NULL &&
      !gaze_sse_parser_feed (self->parser, bytes, length, event_cb, self, &local_error))
    {
      g_debug ("Stopped reading the stream: %s", local_error->message);
      self->error = gaze_client_error_new_unreadable (NULL);
    }

  if (self->error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->error));
      return FALSE;
    }

  return TRUE;
}

/**
 * gaze_stream_take_new_text:
 * @self: a #GazeStream
 *
 * Returns: (transfer full) (nullable): the text that arrived since the
 *   last call, or %NULL if none did
 */
char *
gaze_stream_take_new_text (GazeStream *self)
{
  char *text;

  g_return_val_if_fail (self != NULL, NULL);

  if (self->taken == self->text->len)
    return NULL;

  text = g_strndup (self->text->str + self->taken, self->text->len - self->taken);
  self->taken = self->text->len;

  return text;
}

/**
 * gaze_stream_get_text:
 * @self: a #GazeStream
 *
 * Returns: all the text that has arrived
 */
const char *
gaze_stream_get_text (GazeStream *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->text->str;
}

/**
 * gaze_stream_is_done:
 * @self: a #GazeStream
 *
 * Returns: whether "data: [DONE]" has ended the stream
 */
gboolean
gaze_stream_is_done (GazeStream *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return gaze_sse_parser_is_done (self->parser);
}

/**
 * gaze_stream_has_finish_reason:
 * @self: a #GazeStream
 *
 * Returns: whether the service said why the answer ended
 */
gboolean
gaze_stream_has_finish_reason (GazeStream *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->finish_reason != NULL;
}

/**
 * gaze_stream_finish:
 * @self: a #GazeStream
 * @error: a location for a #GError in %GAZE_CLIENT_ERROR
 *
 * Ends the stream at the end of the body and makes the reply of what
 * arrived. A stream that ended with neither a finish reason nor
 * "data: [DONE]" was cut off: its reply says so with
 * #GazeReply.truncated.
 *
 * Returns: (transfer full): the reply, or %NULL with @error set if the
 *   stream failed or nothing readable arrived
 */
GazeReply *
gaze_stream_finish (GazeStream  *self,
                    GError     **error)
{
  g_autoptr(GazeReply) reply = NULL;
  gboolean done;

  g_return_val_if_fail (self != NULL, NULL);

  if (self->error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->error));
      return NULL;
    }

  done = gaze_sse_parser_finish (self->parser);

  if (!done && self->finish_reason == NULL && self->n_chunks == 0)
    {
      self->error = gaze_client_error_new_unreadable (NULL);
      g_propagate_error (error, g_error_copy (self->error));
      return NULL;
    }

  reply = gaze_reply_new ();
  g_free (reply->content);
  reply->content = g_strndup (self->text->str, self->text->len);
  reply->finish_reason = g_strdup (self->finish_reason);
  if (g_strcmp0 (self->finish_reason, "content_filter") == 0)
    reply->filtered = g_strdup (self->last_filtered);
  reply->truncated = !done && self->finish_reason == NULL;
  reply->prompt_tokens = self->prompt_tokens;
  reply->completion_tokens = self->completion_tokens;
  reply->total_tokens = self->total_tokens;

  return g_steal_pointer (&reply);
}
