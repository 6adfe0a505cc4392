/* gaze-reply.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "gaze-reply"

#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#include "gaze-client-error.h"
#include "gaze-json.h"
#include "gaze-reply.h"
#include "gaze-reply-private.h"

G_DEFINE_BOXED_TYPE (GazeReply, gaze_reply, gaze_reply_copy, gaze_reply_free)

GazeReply *
gaze_reply_new (void)
{
  GazeReply *self = g_new0 (GazeReply, 1);

  self->content = g_strdup ("");
  self->prompt_tokens = -1;
  self->completion_tokens = -1;
  self->total_tokens = -1;

  return self;
}

GazeReply *
gaze_reply_copy (const GazeReply *self)
{
  GazeReply *copy;

  g_return_val_if_fail (self != NULL, NULL);

  copy = g_memdup2 (self, sizeof *self);
  copy->content = g_strdup (self->content);
  copy->finish_reason = g_strdup (self->finish_reason);
  copy->request_id = g_strdup (self->request_id);
  copy->filtered = g_strdup (self->filtered);

  return copy;
}

void
gaze_reply_free (GazeReply *self)
{
  if (self == NULL)
    return;

  g_free (self->content);
  g_free (self->finish_reason);
  g_free (self->request_id);
  g_free (self->filtered);
  g_free (self);
}

/**
 * gaze_reply_read_usage:
 * @self: a #GazeReply
 * @usage: the "usage" object of a reply or of the last streamed chunk
 *
 * Reads the token counts; a count that is missing or not an integer
 * stays -1.
 */
void
gaze_reply_read_usage (GazeReply  *self,
                       JsonObject *usage)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (usage != NULL);

  self->prompt_tokens = gaze_json_get_count (usage, "prompt_tokens");
  self->completion_tokens = gaze_json_get_count (usage, "completion_tokens");
  self->total_tokens = gaze_json_get_count (usage, "total_tokens");
}

/**
 * gaze_reply_dup_finish_reason:
 * @choice: (nullable): a choice of a reply or of a streamed chunk
 *
 * gpt-4 vision-preview on Azure sent finish_details {"type": "stop" |
 * "max_tokens"} instead of finish_reason; this maps it to the names of
 * today.
 *
 * Returns: (transfer full) (nullable): the finish reason, or %NULL
 */
char *
gaze_reply_dup_finish_reason (JsonObject *choice)
{
  const char *reason = gaze_json_get_string (choice, "finish_reason");
  JsonObject *details;

  if (reason != NULL)
    return g_strdup (reason);

  if ((details = gaze_json_get_object (choice, "finish_details")) &&
      (reason = gaze_json_get_string (details, "type")))
    {
      if (g_str_equal (reason, "max_tokens"))
        return g_strdup ("length");
      return g_strdup (reason);
    }

  return NULL;
}

/**
 * gaze_reply_parse:
 * @body: the body of a 200 response to a request without streaming
 * @error: a location for a #GError in %GAZE_CLIENT_ERROR
 *
 * Reads the first choice's text and finish reason and the token usage.
 * The body is untrusted: every node's type is checked before it is read.
 *
 * Returns: (transfer full): the reply, or %NULL with @error set
 */
GazeReply *
gaze_reply_parse (GBytes  *body,
                  GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GazeReply) self = NULL;
  JsonObject *root_object;
  JsonObject *choice;
  JsonObject *message;
  JsonObject *usage;
  JsonNode *root;
  JsonNode *choices;
  JsonNode *first;
  const char *data;
  const char *content;
  gsize size = 0;

  g_return_val_if_fail (body != NULL, NULL);

  data = g_bytes_get_data (body, &size);
  root = gaze_json_parse_untrusted (parser, data, size);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_propagate_error (error, gaze_client_error_new_unreadable (NULL));
      return NULL;
    }

  root_object = json_node_get_object (root);

  if (!(choices = gaze_json_get_member (root_object, "choices", JSON_NODE_ARRAY)) ||
      json_array_get_length (json_node_get_array (choices)) == 0 ||
      !(first = json_array_get_element (json_node_get_array (choices), 0)) ||
      !JSON_NODE_HOLDS_OBJECT (first))
    {
      g_propagate_error (error, gaze_client_error_new_unreadable (NULL));
      return NULL;
    }

  choice = json_node_get_object (first);
  message = gaze_json_get_object (choice, "message");

  self = gaze_reply_new ();
  self->finish_reason = gaze_reply_dup_finish_reason (choice);

  if (g_strcmp0 (self->finish_reason, "content_filter") == 0)
    {
      JsonObject *results = gaze_json_get_object (choice, "content_filter_results");
      g_autofree char *categories = gaze_client_describe_filter_results (results);

      if (categories[0] != '\0')
        self->filtered = g_steal_pointer (&categories);
    }

  /* A filtered answer comes with no content at all; anything else that is
   * not a string means the reply is not what it claims to be.
   */
  if (message != NULL && json_object_has_member (message, "content"))
    {
      JsonNode *node = json_object_get_member (message, "content");

      if (!JSON_NODE_HOLDS_NULL (node))
        {
          if (!(content = gaze_json_get_string (message, "content")))
            {
              g_propagate_error (error, gaze_client_error_new_unreadable (NULL));
              return NULL;
            }

          g_free (self->content);
          self->content = g_strdup (content);
        }
    }
  else if (message == NULL && g_strcmp0 (self->finish_reason, "content_filter") != 0)
    {
      g_propagate_error (error, gaze_client_error_new_unreadable (NULL));
      return NULL;
    }

  if ((usage = gaze_json_get_object (root_object, "usage")))
    gaze_reply_read_usage (self, usage);

  return g_steal_pointer (&self);
}

/**
 * gaze_reply_dup_filter_note:
 * @self: a #GazeReply
 *
 * Says what Azure's content filter withheld, when it ended the answer:
 * all of it, or the rest after what arrived, with the categories when the
 * service named them.
 *
 * Returns: (transfer full) (nullable): the sentence, or %NULL when the
 *   filter did not end the answer
 */
char *
gaze_reply_dup_filter_note (const GazeReply *self)
{
  gboolean partial;

  g_return_val_if_fail (self != NULL, NULL);

  if (g_strcmp0 (self->finish_reason, "content_filter") != 0)
    return NULL;

  partial = self->content != NULL && self->content[0] != '\0';

  if (self->filtered != NULL && partial)
    return g_strdup_printf (_("Azure’s content filter withheld the rest of the answer: %s."),
                            self->filtered);
  if (self->filtered != NULL)
    return g_strdup_printf (_("Azure’s content filter withheld the answer: %s."), self->filtered);
  if (partial)
    return g_strdup (_("Azure’s content filter withheld the rest of the answer."));
  return g_strdup (_("Azure’s content filter withheld the answer."));
}
