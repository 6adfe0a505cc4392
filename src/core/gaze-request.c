/* gaze-request.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "gaze-request"

#include "config.h"

#include <string.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#include "gaze-endpoint.h"
#include "gaze-request.h"
#include "gaze-request-private.h"

/* The original GPT-4 Vision preview took user content as an array of plain
 * strings and {"image": base64} objects; every later version takes typed
 * parts with an image_url object.
 */
#define LEGACY_API_VERSION "2023-08-01-preview"

/* The first api-version that takes stream_options; earlier ones refuse
 * the request when it is there.
 */
#define FIRST_STREAM_OPTIONS_VERSION "2024-10-21"

typedef enum
{
  ROLE_USER,
  ROLE_ASSISTANT,
} Role;

/* What stands in a request for a photo of an earlier turn that no longer
 * fits in it. It is read by the model, not by the person, so it is not
 * translated.
 */
#define LEFT_OUT_FORMAT "[The photo \"%s\" was shown earlier in this conversation " \
                        "and is no longer attached.]"

/* A field added here is copied in message_copy() too. */
typedef struct
{
  Role       role;
  char      *text;
  GPtrArray *images;
  /* The first n_left_out of images are not attached. */
  guint      n_left_out;
} Message;

/* A field added here is copied in gaze_request_snapshot() too. */
struct _GazeRequest
{
  GObject    parent_instance;

  char      *api_version;
  char      *system_prompt;
  GPtrArray *messages;
  guint      max_tokens;
  guint      stream : 1;
};

G_DEFINE_FINAL_TYPE (GazeRequest, gaze_request, G_TYPE_OBJECT)

static void
message_free (gpointer data)
{
  Message *message = data;

  g_free (message->text);
  g_clear_pointer (&message->images, g_ptr_array_unref);
  g_free (message);
}

/* Every field, for gaze_request_snapshot(): the text is copied and the
 * images, which never change once prepared, are shared.
 */
static Message *
message_copy (const Message *message)
{
  Message *copy = g_new0 (Message, 1);

  copy->role = message->role;
  copy->text = g_strdup (message->text);
  copy->n_left_out = message->n_left_out;

  if (message->images != NULL)
    {
      copy->images = g_ptr_array_new_full (message->images->len, g_object_unref);
      for (guint i = 0; i < message->images->len; i++)
        g_ptr_array_add (copy->images, g_object_ref (g_ptr_array_index (message->images, i)));
    }

  return copy;
}

gboolean
gaze_api_version_is_legacy (const char *api_version)
{
  return g_strcmp0 (api_version, LEGACY_API_VERSION) == 0;
}

/* api-versions are YYYY-MM-DD, with -preview after some; the dates
 * compare as text.
 */
static gboolean
api_version_takes_stream_options (const char *api_version)
{
  for (guint i = 0; i < 10; i++)
    {
      if (api_version[i] == '\0' ||
          ((i == 4 || i == 7) ? api_version[i] != '-' : !g_ascii_isdigit (api_version[i])))
        return FALSE;
    }

  return strncmp (api_version, FIRST_STREAM_OPTIONS_VERSION, 10) >= 0;
}

static void
gaze_request_finalize (GObject *object)
{
  GazeRequest *self = (GazeRequest *)object;

  g_clear_pointer (&self->api_version, g_free);
  g_clear_pointer (&self->system_prompt, g_free);
  g_clear_pointer (&self->messages, g_ptr_array_unref);

  G_OBJECT_CLASS (gaze_request_parent_class)->finalize (object);
}

static void
gaze_request_class_init (GazeRequestClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = gaze_request_finalize;
}

static void
gaze_request_init (GazeRequest *self)
{
  self->messages = g_ptr_array_new_with_free_func (message_free);
  self->max_tokens = GAZE_DEFAULT_MAX_TOKENS;
}

/**
 * gaze_request_new:
 * @api_version: (nullable): the api-version the request goes to
 *
 * Returns: (transfer full): an empty request
 */
GazeRequest *
gaze_request_new (const char *api_version)
{
  GazeRequest *self = g_object_new (GAZE_TYPE_REQUEST, NULL);

  self->api_version = g_strdup (api_version ? api_version : GAZE_DEFAULT_API_VERSION);

  return self;
}

const char *
gaze_request_get_api_version (GazeRequest *self)
{
  g_return_val_if_fail (GAZE_IS_REQUEST (self), NULL);

  return self->api_version;
}

void
gaze_request_set_system_prompt (GazeRequest *self,
                                const char  *system_prompt)
{
  g_return_if_fail (GAZE_IS_REQUEST (self));

  g_free (self->system_prompt);
  self->system_prompt = NULL;

  if (system_prompt != NULL)
    {
      g_autofree char *trimmed = g_strstrip (g_utf8_make_valid (system_prompt, -1));

      if (trimmed[0] != '\0')
        self->system_prompt = g_steal_pointer (&trimmed);
    }
}

void
gaze_request_set_max_tokens (GazeRequest *self,
                             guint        max_tokens)
{
  g_return_if_fail (GAZE_IS_REQUEST (self));
  g_return_if_fail (max_tokens > 0);

  self->max_tokens = max_tokens;
}

void
gaze_request_set_stream (GazeRequest *self,
                         gboolean     stream)
{
  g_return_if_fail (GAZE_IS_REQUEST (self));

  self->stream = !!stream;
}

gboolean
gaze_request_get_stream (GazeRequest *self)
{
  g_return_val_if_fail (GAZE_IS_REQUEST (self), FALSE);

  return self->stream;
}

/**
 * gaze_request_add_user_message:
 * @self: a #GazeRequest
 * @text: what the person asked
 * @images: (nullable) (element-type GazeImage): the prepared images sent with it
 */
void
gaze_request_add_user_message (GazeRequest *self,
                               const char  *text,
                               GPtrArray   *images)
{
  gaze_request_add_user_message_full (self, text, images, 0);
}

/**
 * gaze_request_add_user_message_full:
 * @self: a #GazeRequest
 * @text: what the person asked
 * @images: (nullable) (element-type GazeImage): the prepared images sent with it
 * @n_left_out: how many of @images, from the first, are not attached
 *
 * Adds a question of an earlier turn whose first @n_left_out photos no
 * longer fit in the request: each is replaced, in its place, by a short
 * text that tells the model a photo of that name was shown earlier. @text
 * is sent as it is.
 */
void
gaze_request_add_user_message_full (GazeRequest *self,
                                    const char  *text,
                                    GPtrArray   *images,
                                    guint        n_left_out)
{
  Message *message;

  g_return_if_fail (GAZE_IS_REQUEST (self));
  g_return_if_fail (text != NULL);
  g_return_if_fail (n_left_out <= (images != NULL ? images->len : 0));

  for (guint i = 0; images != NULL && i < images->len; i++)
    g_return_if_fail (GAZE_IS_IMAGE (g_ptr_array_index (images, i)));

  message = g_new0 (Message, 1);
  message->role = ROLE_USER;
  message->text = g_utf8_make_valid (text, -1);
  message->images = g_ptr_array_new_with_free_func (g_object_unref);
  message->n_left_out = n_left_out;

  for (guint i = 0; images != NULL && i < images->len; i++)
    g_ptr_array_add (message->images, g_object_ref (g_ptr_array_index (images, i)));

  g_ptr_array_add (self->messages, message);
}

void
gaze_request_add_assistant_message (GazeRequest *self,
                                    const char  *text)
{
  Message *message;

  g_return_if_fail (GAZE_IS_REQUEST (self));
  g_return_if_fail (text != NULL);

  message = g_new0 (Message, 1);
  message->role = ROLE_ASSISTANT;
  message->text = g_utf8_make_valid (text, -1);

  g_ptr_array_add (self->messages, message);
}

static char *
dup_left_out_text (GazeImage *image)
{
  return g_strdup_printf (LEFT_OUT_FORMAT, gaze_image_get_name (image));
}

/* json-glib 1.6 escapes control characters below U+001F only, and leaves
 * U+001F itself as it is, which JSON does not allow. In its output a raw
 * U+001F can only stand inside a string. */
static void
escape_unit_separators (GString *json)
{
  char *p;

  while ((p = memchr (json->str, 0x1f, json->len)))
    {
      gssize position = p - json->str;

      g_string_erase (json, position, 1);
      g_string_insert (json, position, "\\u001f");
    }
}

/*
 * The body as json-glib builds it, node by node: how gaze_request_to_bytes()
 * worked until it wrote the body itself. Tests compare the two byte for
 * byte, and the bench times both; the app never calls it.
 */

static void
add_legacy_user_content (JsonBuilder   *builder,
                         const Message *message)
{
  json_builder_begin_array (builder);

  if (message->text[0] != '\0')
    json_builder_add_string_value (builder, message->text);

  for (guint i = 0; i < message->images->len; i++)
    {
      GazeImage *image = g_ptr_array_index (message->images, i);

      if (i < message->n_left_out)
        {
          g_autofree char *left_out = dup_left_out_text (image);

          json_builder_add_string_value (builder, left_out);
          continue;
        }

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "image");
      json_builder_add_string_value (builder, gaze_image_get_base64 (image));
      json_builder_end_object (builder);
    }

  json_builder_end_array (builder);
}

static void
add_user_content (JsonBuilder   *builder,
                  const Message *message)
{
  json_builder_begin_array (builder);

  if (message->text[0] != '\0' || message->images->len == 0)
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "type");
      json_builder_add_string_value (builder, "text");
      json_builder_set_member_name (builder, "text");
      json_builder_add_string_value (builder, message->text);
      json_builder_end_object (builder);
    }

  for (guint i = 0; i < message->images->len; i++)
    {
      GazeImage *image = g_ptr_array_index (message->images, i);
      g_autofree char *url = NULL;

      if (i < message->n_left_out)
        {
          g_autofree char *left_out = dup_left_out_text (image);

          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "type");
          json_builder_add_string_value (builder, "text");
          json_builder_set_member_name (builder, "text");
          json_builder_add_string_value (builder, left_out);
          json_builder_end_object (builder);
          continue;
        }

      url = g_strconcat ("data:image/jpeg;base64,", gaze_image_get_base64 (image), NULL);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "type");
      json_builder_add_string_value (builder, "image_url");
      json_builder_set_member_name (builder, "image_url");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "url");
      json_builder_add_string_value (builder, url);
      json_builder_set_member_name (builder, "detail");
      json_builder_add_string_value (builder,
                                     gaze_detail_to_string (gaze_image_get_detail (image)));
      json_builder_end_object (builder);
      json_builder_end_object (builder);
    }

  json_builder_end_array (builder);
}

static void
add_text_message (JsonBuilder *builder,
                  const char  *role,
                  const char  *text)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "role");
  json_builder_add_string_value (builder, role);
  json_builder_set_member_name (builder, "content");
  json_builder_add_string_value (builder, text);
  json_builder_end_object (builder);
}

GBytes *
gaze_request_to_bytes_reference (GazeRequest *self)
{
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(JsonGenerator) generator = NULL;
  g_autoptr(JsonNode) root = NULL;
  gboolean legacy;
  char *json;
  gsize length;

  g_return_val_if_fail (GAZE_IS_REQUEST (self), NULL);

  legacy = gaze_api_version_is_legacy (self->api_version);
  builder = json_builder_new_immutable ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "messages");
  json_builder_begin_array (builder);

  if (self->system_prompt != NULL)
    add_text_message (builder, "system", self->system_prompt);

  for (guint i = 0; i < self->messages->len; i++)
    {
      const Message *message = g_ptr_array_index (self->messages, i);

      if (message->role == ROLE_ASSISTANT)
        {
          add_text_message (builder, "assistant", message->text);
          continue;
        }

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "role");
      json_builder_add_string_value (builder, "user");
      json_builder_set_member_name (builder, "content");
      if (legacy)
        add_legacy_user_content (builder, message);
      else
        add_user_content (builder, message);
      json_builder_end_object (builder);
    }

  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "max_tokens");
  json_builder_add_int_value (builder, self->max_tokens);
  json_builder_set_member_name (builder, "stream");
  json_builder_add_boolean_value (builder, self->stream);

  /* Without it, a streamed answer does not say how many tokens it used. */
  if (self->stream && api_version_takes_stream_options (self->api_version))
    {
      json_builder_set_member_name (builder, "stream_options");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "include_usage");
      json_builder_add_boolean_value (builder, TRUE);
      json_builder_end_object (builder);
    }

  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  generator = json_generator_new ();
  json_generator_set_root (generator, root);
  json = json_generator_to_data (generator, &length);

  if (memchr (json, 0x1f, length) != NULL)
    {
      GString *fixed = g_string_new_len (json, (gssize) length);

      g_free (json);
      escape_unit_separators (fixed);
      length = fixed->len;
      json = g_string_free (fixed, FALSE);
    }

  return g_bytes_new_take (json, length);
}

/*
 * The body as it is sent. The photos are nearly all of it, and their
 * base64 (letters, digits, '+', '/' and '=') never needs escaping, so it
 * is copied straight into one buffer that the estimate sizes beforehand:
 * no copy of it in a data: URL, none in a node, none while escaping, and
 * no buffer that grows by copying itself. json-glib still escapes every
 * text, so the body is, byte for byte, the one it built whole.
 */

typedef struct
{
  char          *data;
  gsize          len;
  /* Bytes allocated: always more than len, for a final NUL. */
  gsize          size;

  JsonGenerator *generator;
  GString       *escaped;
} Body;

static void
body_append (Body       *body,
             const char *data,
             gsize       len)
{
  /* The estimate is never smaller than the body, so this never grows;
   * if it were wrong, the body would still be whole. */
  if (len >= body->size - body->len)
    {
      body->size = MAX (body->size * 2, body->len + len + 1);
      body->data = g_realloc (body->data, body->size);
    }

  memcpy (body->data + body->len, data, len);
  body->len += len;
}

#define body_append_literal(body, literal) \
  body_append ((body), "" literal, sizeof (literal) - 1)

/* @text as a JSON string, quotes included, escaped by json-glib. */
static void
body_append_string (Body       *body,
                    const char *text)
{
  g_autoptr(JsonNode) node = json_node_init_string (json_node_alloc (), text);

  g_string_truncate (body->escaped, 0);
  json_generator_set_root (body->generator, node);
  json_generator_to_gstring (body->generator, body->escaped);
  escape_unit_separators (body->escaped);
  body_append (body, body->escaped->str, body->escaped->len);
}

static void
body_append_base64 (Body      *body,
                    GazeImage *image)
{
  const char *base64 = gaze_image_get_base64 (image);

  body_append (body, base64, strlen (base64));
}

static void
body_append_text_part (Body       *body,
                       const char *text)
{
  body_append_literal (body, "{\"type\":\"text\",\"text\":");
  body_append_string (body, text);
  body_append_literal (body, "}");
}

static void
body_append_user_content (Body          *body,
                          const Message *message)
{
  gboolean first = TRUE;

  body_append_literal (body, "[");

  if (message->text[0] != '\0' || message->images->len == 0)
    {
      body_append_text_part (body, message->text);
      first = FALSE;
    }

  for (guint i = 0; i < message->images->len; i++)
    {
      GazeImage *image = g_ptr_array_index (message->images, i);

      if (!first)
        body_append_literal (body, ",");
      first = FALSE;

      if (i < message->n_left_out)
        {
          g_autofree char *left_out = dup_left_out_text (image);

          body_append_text_part (body, left_out);
          continue;
        }

      body_append_literal (body, "{\"type\":\"image_url\",\"image_url\":"
                                 "{\"url\":\"data:image/jpeg;base64,");
      body_append_base64 (body, image);
      body_append_literal (body, "\",\"detail\":");
      body_append_string (body, gaze_detail_to_string (gaze_image_get_detail (image)));
      body_append_literal (body, "}}");
    }

  body_append_literal (body, "]");
}

static void
body_append_legacy_user_content (Body          *body,
                                 const Message *message)
{
  gboolean first = TRUE;

  body_append_literal (body, "[");

  if (message->text[0] != '\0')
    {
      body_append_string (body, message->text);
      first = FALSE;
    }

  for (guint i = 0; i < message->images->len; i++)
    {
      GazeImage *image = g_ptr_array_index (message->images, i);

      if (!first)
        body_append_literal (body, ",");
      first = FALSE;

      if (i < message->n_left_out)
        {
          g_autofree char *left_out = dup_left_out_text (image);

          body_append_string (body, left_out);
          continue;
        }

      body_append_literal (body, "{\"image\":\"");
      body_append_base64 (body, image);
      body_append_literal (body, "\"}");
    }

  body_append_literal (body, "]");
}

/**
 * gaze_request_to_bytes:
 * @self: a #GazeRequest
 *
 * Builds the JSON body in the shape that @self's api-version takes.
 *
 * Returns: (transfer full): the body
 */
GBytes *
gaze_request_to_bytes (GazeRequest *self)
{
  g_autoptr(JsonGenerator) generator = NULL;
  g_autoptr(GString) escaped = NULL;
  char max_tokens[16];
  gboolean legacy;
  Body body;

  g_return_val_if_fail (GAZE_IS_REQUEST (self), NULL);

  legacy = gaze_api_version_is_legacy (self->api_version);
  generator = json_generator_new ();
  escaped = g_string_new (NULL);

  body.size = gaze_request_estimate_size (self) + 1;
  body.data = g_malloc (body.size);
  body.len = 0;
  body.generator = generator;
  body.escaped = escaped;

  body_append_literal (&body, "{\"messages\":[");

  if (self->system_prompt != NULL)
    {
      body_append_literal (&body, "{\"role\":\"system\",\"content\":");
      body_append_string (&body, self->system_prompt);
      body_append_literal (&body, "}");
    }

  for (guint i = 0; i < self->messages->len; i++)
    {
      const Message *message = g_ptr_array_index (self->messages, i);

      if (i > 0 || self->system_prompt != NULL)
        body_append_literal (&body, ",");

      if (message->role == ROLE_ASSISTANT)
        {
          body_append_literal (&body, "{\"role\":\"assistant\",\"content\":");
          body_append_string (&body, message->text);
          body_append_literal (&body, "}");
          continue;
        }

      body_append_literal (&body, "{\"role\":\"user\",\"content\":");
      if (legacy)
        body_append_legacy_user_content (&body, message);
      else
        body_append_user_content (&body, message);
      body_append_literal (&body, "}");
    }

  body_append_literal (&body, "],\"max_tokens\":");
  g_snprintf (max_tokens, sizeof max_tokens, "%u", self->max_tokens);
  body_append (&body, max_tokens, strlen (max_tokens));

  if (self->stream)
    body_append_literal (&body, ",\"stream\":true");
  else
    body_append_literal (&body, ",\"stream\":false");

  /* Without it, a streamed answer does not say how many tokens it used. */
  if (self->stream && api_version_takes_stream_options (self->api_version))
    body_append_literal (&body, ",\"stream_options\":{\"include_usage\":true}");

  body_append_literal (&body, "}");

  /* A NUL after the body, as json-glib leaves one, so that it can be read
   * as a string too. Giving back the estimate's spare bytes moves
   * nothing. */
  body.data[body.len] = '\0';
  body.data = g_realloc (body.data, body.len + 1);

  return g_bytes_new_take (body.data, body.len);
}

/* A copy for a worker thread, of everything gaze_request_to_bytes() reads. */
static GazeRequest *
gaze_request_snapshot (GazeRequest *self)
{
  GazeRequest *copy = gaze_request_new (self->api_version);

  copy->system_prompt = g_strdup (self->system_prompt);
  copy->max_tokens = self->max_tokens;
  copy->stream = self->stream;

  for (guint i = 0; i < self->messages->len; i++)
    g_ptr_array_add (copy->messages, message_copy (g_ptr_array_index (self->messages, i)));

  return copy;
}

static void
gaze_request_to_bytes_worker (GTask        *task,
                              gpointer      source_object,
                              gpointer      task_data,
                              GCancellable *cancellable)
{
  GazeRequest *snapshot = task_data;

  g_assert (G_IS_TASK (task));
  g_assert (GAZE_IS_REQUEST (snapshot));

  g_task_return_pointer (task, gaze_request_to_bytes (snapshot), (GDestroyNotify) g_bytes_unref);
}

/**
 * gaze_request_to_bytes_async:
 * @self: a #GazeRequest
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the body
 * @user_data: data for @callback
 *
 * Builds the same body as gaze_request_to_bytes() in a worker thread:
 * with the photos of earlier turns it can be 20 MB, which is not copied
 * on the main loop.
 *
 * The body is of @self as it is now; @self may change, or go away, as
 * soon as this returns. Cancelling calls @callback at once, even while
 * the worker is still busy.
 */
void
gaze_request_to_bytes_async (GazeRequest         *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (GAZE_IS_REQUEST (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, gaze_request_to_bytes_async);
  g_task_set_name (task, "[gaze-request] to bytes");

  /* The worker reads only its own copy, so that nothing it reads changes
   * under it, and it may be left to finish alone once cancelled.
   */
  g_task_set_task_data (task, gaze_request_snapshot (self), g_object_unref);
  g_task_set_return_on_cancel (task, TRUE);
  g_task_run_in_thread (task, gaze_request_to_bytes_worker);
}

/**
 * gaze_request_to_bytes_finish:
 * @self: a #GazeRequest
 * @result: the result given to the callback
 * @error: a location for a #GError, only ever %G_IO_ERROR_CANCELLED
 *
 * Returns: (transfer full): the body, or %NULL with @error set
 */
GBytes *
gaze_request_to_bytes_finish (GazeRequest   *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (GAZE_IS_REQUEST (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == gaze_request_to_bytes_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Room for everything in the body that is neither text nor an image: the
 * keys, brackets and options around the messages; a message's role and
 * content keys; an image part's type, data: prefix and detail, or the keys
 * of the text part that stands for a photo left out. Each is more than
 * to_bytes() writes, so the estimate errs on the large side. */
#define BODY_OVERHEAD     256
#define MESSAGE_OVERHEAD  96
#define IMAGE_OVERHEAD    128

/* An upper bound on the length of @text as a JSON string's contents:
 * control characters, quotes and backslashes take up to six bytes escaped,
 * and other characters at most three per byte of UTF-8. */
static gsize
estimate_json_string (const char *text)
{
  gsize len = 0;

  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    {
      if (*p < 0x20 || *p == '"' || *p == '\\' || *p == 0x7f)
        len += 6;
      else if (*p >= 0x80)
        len += 3;
      else
        len += 1;
    }

  return len;
}

/**
 * gaze_request_estimate_size:
 * @self: a #GazeRequest
 *
 * Estimates the size of the body gaze_request_to_bytes() would build,
 * without building it, so that it can be shown while the person types. It
 * is never smaller than the body, and larger only by a few hundred bytes
 * and the escapes that the text might need.
 *
 * Returns: the estimated size in bytes
 */
gsize
gaze_request_estimate_size (GazeRequest *self)
{
  gsize size = BODY_OVERHEAD;

  g_return_val_if_fail (GAZE_IS_REQUEST (self), 0);

  if (self->system_prompt != NULL)
    size += MESSAGE_OVERHEAD + estimate_json_string (self->system_prompt);

  for (guint i = 0; i < self->messages->len; i++)
    {
      const Message *message = g_ptr_array_index (self->messages, i);

      size += MESSAGE_OVERHEAD + estimate_json_string (message->text);

      for (guint j = 0; message->images != NULL && j < message->images->len; j++)
        {
          GazeImage *image = g_ptr_array_index (message->images, j);
          GBytes *jpeg;

          if (j < message->n_left_out)
            {
              g_autofree char *left_out = dup_left_out_text (image);

              size += IMAGE_OVERHEAD + estimate_json_string (left_out);
              continue;
            }

          /* Base64 without line breaks: four characters for every three bytes. */
          jpeg = gaze_image_get_jpeg (image);
          size += IMAGE_OVERHEAD + (g_bytes_get_size (jpeg) + 2) / 3 * 4;
        }
    }

  return size;
}

/**
 * gaze_request_get_n_images:
 * @self: a #GazeRequest
 *
 * Returns: how many images @self attaches, over all its messages; those
 *   left out are not counted
 */
guint
gaze_request_get_n_images (GazeRequest *self)
{
  guint n = 0;

  g_return_val_if_fail (GAZE_IS_REQUEST (self), 0);

  for (guint i = 0; i < self->messages->len; i++)
    {
      const Message *message = g_ptr_array_index (self->messages, i);

      if (message->images != NULL)
        n += message->images->len - message->n_left_out;
    }

  return n;
}

/**
 * gaze_request_check:
 * @self: a #GazeRequest
 * @error: a location for a #GError
 *
 * Says, before anything is sent, whether the service will take @self: at
 * most %GAZE_MAX_IMAGES_PER_REQUEST images in the whole request, and a body
 * of at most %GAZE_MAX_REQUEST_SIZE bytes. If not, @error says what to do.
 *
 * The limit counts the images of every message, since each request carries
 * the earlier turns again: gaze_conversation_build_request() leaves out
 * the oldest photos so that a conversation stays within it.
 *
 * Returns: %TRUE if @self can be sent
 */
gboolean
gaze_request_check (GazeRequest  *self,
                    GError      **error)
{
  gsize size;

  g_return_val_if_fail (GAZE_IS_REQUEST (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!gaze_image_check_count (gaze_request_get_n_images (self), error))
    return FALSE;

  size = gaze_request_estimate_size (self);

  if (size > GAZE_MAX_REQUEST_SIZE)
    {
      g_set_error (error, GAZE_IMAGE_ERROR, GAZE_IMAGE_ERROR_REQUEST_TOO_LARGE,
                   /* Translators: sizes in megabytes, the first rounded up. */
                   _("These photos make the question too large to send (%u MB; Azure takes %u MB). "
                     "Remove a photo or use low detail."),
                   (guint) ((size + 999999) / 1000000),
                   (guint) (GAZE_MAX_REQUEST_SIZE / 1000000));
      return FALSE;
    }

  return TRUE;
}
