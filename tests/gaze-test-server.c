/* gaze-test-server.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "gaze-test-server"

#include "config.h"

#include <glib/gi18n.h>

#include "gaze-test-server.h"

#include <string.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <libsoup/soup.h>

/* What the server says it is. The model and fingerprint come from the
 * gpt-4o stream transcripts; no test should depend on them.
 */
#define MODEL_NAME         "gpt-4o-2024-08-06"
#define SYSTEM_FINGERPRINT "fp_6b0e3c5a91"
#define REGION             "Sweden Central"

/* The pause between two pieces of a streamed answer: long enough that
 * each piece reaches the client in its own read, short enough to keep
 * the tests fast.
 */
#define CHUNK_INTERVAL_MS 10

#define MAX_IMAGES      10
#define MAX_IMAGE_BYTES (20 * 1024 * 1024)

/* api-versions as YYYYMMDD. Before the first one, content is only a
 * string; until the second, content arrays hold strings and
 * {"image": ...} objects; from the second on, they hold typed parts.
 */
#define VERSION_FIRST_LEGACY_PARTS   20230801
#define VERSION_FIRST_TYPED_PARTS    20231201
#define VERSION_FIRST_STREAM_OPTIONS 20241021

#define MESSAGE_RESOURCE_NOT_FOUND "Resource not found"
#define MESSAGE_ACCESS_DENIED \
  "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide " \
  "a valid key for an active subscription and use a correct regional API endpoint for your " \
  "resource."
#define MESSAGE_DEPLOYMENT_NOT_FOUND \
  "The API deployment for this resource does not exist. If you created the deployment within " \
  "the last 5 minutes, please wait a moment and try again."
#define MESSAGE_INVALID_IMAGE "Invalid image data."

typedef enum
{
  REPLY_WHOLE,     /* One body, with a Content-Length that matches it. */
  REPLY_CHUNKED,   /* Chunked encoding, written one piece at a time. */
  REPLY_TRUNCATED, /* A Content-Length larger than the body, then the connection closes. */
} ReplyKind;

typedef struct
{
  ReplyKind           kind;
  guint               status;
  char               *content_type;
  GBytes             *body;
  gsize               claimed_length;
  GPtrArray          *chunks;
  SoupMessageHeaders *headers;
} Reply;

typedef struct
{
  int   width;
  int   height;
  char *detail;
  char *mime;
} ImageRecord;

typedef struct
{
  GazeTestServer    *self;
  SoupServerMessage *msg;
  Reply             *reply;
  GSource           *source;
  guint              next_chunk;
  gulong             finished_id;
} Pending;

typedef struct
{
  GazeTestServer *self;
  guint           version;
  Reply          *error;
} Check;

struct _GazeTestServer
{
  GObject             parent_instance;

  SoupServer         *server;
  GMainContext       *context;
  guint               port;
  gboolean            tls;
  guint               delay_ms;
  guint               chunk_interval_ms;
  GQueue              queued;
  GPtrArray          *pending;

  guint               n_started;
  guint               n_requests;
  char               *last_path;
  char               *last_api_version;
  char               *last_content_type;
  SoupMessageHeaders *last_headers;
  gboolean            last_key_ok;
  gboolean            last_had_authorization;
  GBytes             *last_raw_body;
  JsonNode           *last_body;
  GArray             *last_images;
  char               *last_user_text;
  guint               last_n_messages;
  gint64              last_max_tokens;
  gboolean            last_stream;
  gboolean            last_include_usage;

  GStrv               answers;
  guint               next_answer;

  /* Only to tell the last answer's signals from older ones; not a reference. */
  SoupServerMessage  *answering;
  guint64             answer_written;
  gboolean            answer_done;
};

G_DEFINE_FINAL_TYPE (GazeTestServer, gaze_test_server, G_TYPE_OBJECT)

static void
reply_free (Reply *reply)
{
  g_clear_pointer (&reply->content_type, g_free);
  g_clear_pointer (&reply->body, g_bytes_unref);
  g_clear_pointer (&reply->chunks, g_ptr_array_unref);
  g_clear_pointer (&reply->headers, soup_message_headers_unref);
  g_free (reply);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Reply, reply_free)

static Reply *
reply_new (ReplyKind   kind,
           guint       status,
           const char *content_type)
{
  Reply *reply = g_new0 (Reply, 1);

  reply->kind = kind;
  reply->status = status;
  reply->content_type = g_strdup (content_type);
  reply->headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);

  return reply;
}

static gboolean
content_type_is (const char *content_type,
                 const char *media_type)
{
  gsize len;

  if (content_type == NULL)
    return FALSE;

  len = strlen (media_type);

  return g_ascii_strncasecmp (content_type, media_type, len) == 0 &&
         (content_type[len] == '\0' || content_type[len] == ';' || content_type[len] == ' ');
}

/* Server-Sent Events go out one event per chunk, the way the service
 * releases them; anything else goes out in one piece.
 */
static Reply *
reply_new_for_body (guint       status,
                    const char *content_type,
                    const char *body,
                    gsize       length)
{
  Reply *reply;
  gsize start = 0;

  if (!content_type_is (content_type, "text/event-stream") || length == 0)
    {
      reply = reply_new (REPLY_WHOLE, status, content_type);
      reply->body = g_bytes_new (body, length);
      return reply;
    }

  reply = reply_new (REPLY_CHUNKED, status, content_type);
  reply->chunks = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

  while (start < length)
    {
      const char *end = g_strstr_len (body + start, length - start, "\n\n");
      gsize stop = end != NULL ? (gsize) (end - body) + 2 : length;

      g_ptr_array_add (reply->chunks, g_bytes_new (body + start, stop - start));
      start = stop;
    }

  return reply;
}

static Reply *
reply_new_json (guint     status,
                JsonNode *root)
{
  g_autofree char *text = json_to_string (root, FALSE);

  return reply_new_for_body (status, "application/json", text, strlen (text));
}

static Reply *
reply_new_error (guint       status,
                 const char *code,
                 const char *message)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "error");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, code);
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, message);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);

  return reply_new_json (status, root);
}

/* The shape the OpenAI layer uses for requests it cannot accept. */
static Reply *
reply_new_invalid_request (const char *message)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "error");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, message);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "invalid_request_error");
  json_builder_set_member_name (builder, "param");
  json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "code");
  json_builder_add_null_value (builder);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);

  return reply_new_json (SOUP_STATUS_BAD_REQUEST, root);
}

static Reply *
reply_new_bad_image (const char *message)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "error");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, "BadRequest");
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, message);
  json_builder_set_member_name (builder, "param");
  json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_null_value (builder);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);

  return reply_new_json (SOUP_STATUS_BAD_REQUEST, root);
}

static void
image_record_clear (gpointer data)
{
  ImageRecord *record = data;

  g_clear_pointer (&record->detail, g_free);
  g_clear_pointer (&record->mime, g_free);
}

static void
pending_free (Pending *pending)
{
  if (pending->source != NULL)
    {
      g_source_destroy (pending->source);
      g_clear_pointer (&pending->source, g_source_unref);
    }

  g_clear_signal_handler (&pending->finished_id, pending->msg);
  g_clear_object (&pending->msg);
  g_clear_pointer (&pending->reply, reply_free);
  g_free (pending);
}

static void
gaze_test_server_forget_last (GazeTestServer *self)
{
  g_assert (GAZE_IS_TEST_SERVER (self));

  g_clear_pointer (&self->last_path, g_free);
  g_clear_pointer (&self->last_api_version, g_free);
  g_clear_pointer (&self->last_content_type, g_free);
  g_clear_pointer (&self->last_headers, soup_message_headers_unref);
  g_clear_pointer (&self->last_raw_body, g_bytes_unref);
  g_clear_pointer (&self->last_body, json_node_unref);
  g_clear_pointer (&self->last_user_text, g_free);
  g_array_set_size (self->last_images, 0);
  self->last_key_ok = FALSE;
  self->last_had_authorization = FALSE;
  self->last_n_messages = 0;
  self->last_max_tokens = -1;
  self->last_stream = FALSE;
  self->last_include_usage = FALSE;
}

/* Reading the request */

static const char *
describe_node_type (JsonNode *node)
{
  GType type;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return "null";
  if (JSON_NODE_HOLDS_OBJECT (node))
    return "an object";
  if (JSON_NODE_HOLDS_ARRAY (node))
    return "an array";

  type = json_node_get_value_type (node);
  if (type == G_TYPE_STRING)
    return "a string";
  if (type == G_TYPE_INT64)
    return "an integer";
  if (type == G_TYPE_DOUBLE)
    return "a number";
  if (type == G_TYPE_BOOLEAN)
    return "a boolean";

  return "a value";
}

static gboolean
node_holds (JsonNode *node,
            GType     type)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type;
}

/* Returns the member if it is a string, NULL otherwise. */
static const char *
object_get_string (JsonObject *object,
                   const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  return node_holds (node, G_TYPE_STRING) ? json_node_get_string (node) : NULL;
}

static gboolean
member_is_absent (JsonObject *object,
                  const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  return node == NULL || JSON_NODE_HOLDS_NULL (node);
}

static void check_fail (Check      *check,
                        const char *format,
                        ...) G_GNUC_PRINTF (2, 3);

/* Only the first problem is answered, as the service does; the walk
 * goes on so that everything the request carried is recorded.
 */
static void
check_fail (Check      *check,
            const char *format,
            ...)
{
  g_autofree char *message = NULL;
  va_list args;

  if (check->error != NULL)
    return;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  check->error = reply_new_invalid_request (message);
}

static void
check_fail_image (Check      *check,
                  const char *message)
{
  if (check->error == NULL)
    check->error = reply_new_bad_image (message);
}

static gboolean
check_uses_typed_parts (Check *check)
{
  /* A request whose api-version does not parse is answered 404 before its
   * body matters; read its body as a current client would write it.
   */
  return check->version == 0 || check->version >= VERSION_FIRST_TYPED_PARTS;
}

/* The service wants standard base64 with its padding: no spaces, no
 * URL-safe alphabet. g_base64_decode() skips what it does not know, so
 * check first.
 */
static gboolean
is_strict_base64 (const char *text,
                  gsize       length)
{
  gsize padding = 0;

  if (length == 0 || length % 4 != 0)
    return FALSE;

  while (padding < 2 && text[length - 1 - padding] == '=')
    padding++;

  for (gsize i = 0; i < length - padding; i++)
    {
      char c = text[i];

      if (!g_ascii_isalnum (c) && c != '+' && c != '/')
        return FALSE;
    }

  return TRUE;
}

static gboolean
mime_is_supported (const char *mime)
{
  static const char * const supported[] = {
    "image/jpeg", "image/png", "image/gif", "image/webp", NULL
  };

  return mime != NULL && g_strv_contains (supported, mime);
}

static gboolean
format_has_mime (GdkPixbufFormat *format,
                 const char      *mime)
{
  g_auto(GStrv) mime_types = NULL;

  if (format == NULL || mime == NULL)
    return FALSE;

  mime_types = gdk_pixbuf_format_get_mime_types (format);
  for (guint i = 0; mime_types != NULL && mime_types[i] != NULL; i++)
    {
      if (g_ascii_strcasecmp (mime_types[i], mime) == 0)
        return TRUE;
    }

  return FALSE;
}

/* Decodes the image fully, as the service has to, and writes its real
 * size into @record. Returns %FALSE if it is not an image the service
 * takes.
 */
static gboolean
decode_image (const char  *base64,
              ImageRecord *record)
{
  g_autoptr(GdkPixbufLoader) loader = NULL;
  g_autofree guchar *data = NULL;
  GdkPixbufFormat *format;
  GdkPixbuf *pixbuf;
  gboolean written;
  gboolean closed;
  gsize length = 0;

  if (!is_strict_base64 (base64, strlen (base64)))
    return FALSE;

  data = g_base64_decode (base64, &length);
  if (data == NULL || length == 0 || length > MAX_IMAGE_BYTES)
    return FALSE;

  loader = gdk_pixbuf_loader_new ();
  written = gdk_pixbuf_loader_write (loader, data, length, NULL);
  /* A loader must always be closed, or it warns when finalized. */
  closed = gdk_pixbuf_loader_close (loader, NULL);
  if (!written || !closed)
    return FALSE;

  pixbuf = gdk_pixbuf_loader_get_pixbuf (loader);
  format = gdk_pixbuf_loader_get_format (loader);
  if (pixbuf == NULL || format == NULL)
    return FALSE;

  record->width = gdk_pixbuf_get_width (pixbuf);
  record->height = gdk_pixbuf_get_height (pixbuf);

  if (!format_has_mime (format, "image/jpeg") &&
      !format_has_mime (format, "image/png") &&
      !format_has_mime (format, "image/gif") &&
      !format_has_mime (format, "image/webp"))
    return FALSE;

  /* A data: URL that names one format and carries another is a client
   * bug worth failing loudly on.
   */
  if (record->mime != NULL && !format_has_mime (format, record->mime))
    return FALSE;

  return TRUE;
}

static void
check_image (Check      *check,
             const char *url,
             const char *detail,
             gboolean    legacy)
{
  ImageRecord record = { -1, -1, g_strdup (detail), NULL };
  const char *base64 = NULL;

  if (g_str_has_prefix (url, "data:"))
    {
      const char *comma = strchr (url, ',');
      g_autofree char *meta = NULL;

      if (comma != NULL)
        meta = g_strndup (url + 5, comma - (url + 5));

      if (meta != NULL && g_str_has_suffix (meta, ";base64"))
        {
          meta[strlen (meta) - strlen (";base64")] = '\0';
          record.mime = g_ascii_strdown (meta, -1);
          base64 = comma + 1;
        }
    }
  else if (legacy && !g_str_has_prefix (url, "http://") && !g_str_has_prefix (url, "https://"))
    {
      base64 = url;
    }
  else
    {
      /* The service would download it; this server will not. */
      check_fail (check, "Invalid image URL: this test server only takes data: URLs, got '%.40s'.",
                  url);
    }

  if (base64 != NULL)
    {
      if (record.mime != NULL && !mime_is_supported (record.mime))
        check_fail (check,
                    "Invalid image type '%s'. Supported types are image/jpeg, image/png, "
                    "image/gif and image/webp.",
                    record.mime);
      else if (!decode_image (base64, &record))
        check_fail_image (check, MESSAGE_INVALID_IMAGE);
    }
  else if (g_str_has_prefix (url, "data:"))
    {
      check_fail_image (check, MESSAGE_INVALID_IMAGE);
    }

  g_array_append_val (check->self->last_images, record);
}

static void
check_typed_part (Check    *check,
                  guint     i,
                  guint     j,
                  JsonNode *node,
                  GString  *text)
{
  JsonObject *part;
  JsonNode *image_url_node;
  JsonObject *image_url;
  const char *type;
  const char *url;
  const char *detail;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      check_fail (check,
                  "Invalid type for 'messages[%u].content[%u]': expected an object, but got %s "
                  "instead.",
                  i, j, describe_node_type (node));
      return;
    }

  part = json_node_get_object (node);
  type = object_get_string (part, "type");

  if (type == NULL)
    {
      check_fail (check, "Missing required parameter: 'messages[%u].content[%u].type'.", i, j);
      return;
    }

  if (g_str_equal (type, "text"))
    {
      const char *part_text = object_get_string (part, "text");

      if (part_text == NULL)
        {
          check_fail (check, "Missing required parameter: 'messages[%u].content[%u].text'.", i, j);
          return;
        }

      if (text != NULL)
        {
          if (text->len > 0)
            g_string_append_c (text, '\n');
          g_string_append (text, part_text);
        }
      return;
    }

  if (!g_str_equal (type, "image_url"))
    {
      check_fail (check,
                  "Invalid value: '%s'. Supported values are: 'text' and 'image_url'.", type);
      return;
    }

  if (text == NULL)
    {
      check_fail (check,
                  "Invalid 'messages[%u].content[%u]': only user messages may carry images.",
                  i, j);
      return;
    }

  image_url_node = json_object_get_member (part, "image_url");
  if (image_url_node == NULL || !JSON_NODE_HOLDS_OBJECT (image_url_node))
    {
      check_fail (check,
                  "Missing required parameter: 'messages[%u].content[%u].image_url'.", i, j);
      return;
    }

  image_url = json_node_get_object (image_url_node);
  url = object_get_string (image_url, "url");
  detail = object_get_string (image_url, "detail");

  if (url == NULL)
    {
      check_fail (check,
                  "Missing required parameter: 'messages[%u].content[%u].image_url.url'.", i, j);
      return;
    }

  if (detail == NULL && !member_is_absent (image_url, "detail"))
    check_fail (check,
                "Invalid type for 'messages[%u].content[%u].image_url.detail': expected a string.",
                i, j);
  else if (detail != NULL &&
           !g_str_equal (detail, "auto") &&
           !g_str_equal (detail, "low") &&
           !g_str_equal (detail, "high"))
    check_fail (check,
                "Invalid value: '%s'. Supported values are: 'auto', 'low', and 'high'.", detail);

  check_image (check, url, detail, FALSE);
}

/* The first GPT-4 Turbo with Vision docs sent content as an array of
 * plain strings and {"image": "<base64>"} objects.
 */
static void
check_legacy_part (Check    *check,
                   guint     i,
                   guint     j,
                   JsonNode *node,
                   GString  *text)
{
  JsonObject *part;
  const char *image;

  if (node_holds (node, G_TYPE_STRING))
    {
      if (text->len > 0)
        g_string_append_c (text, '\n');
      g_string_append (text, json_node_get_string (node));
      return;
    }

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      check_fail (check,
                  "Invalid type for 'messages[%u].content[%u]': expected a string or an object, "
                  "but got %s instead.",
                  i, j, describe_node_type (node));
      return;
    }

  part = json_node_get_object (node);
  image = object_get_string (part, "image");

  if (image == NULL)
    {
      check_fail (check,
                  "Invalid 'messages[%u].content[%u]': with api-version %s a content part is a "
                  "string or {\"image\": \"<base64>\"}.",
                  i, j, check->self->last_api_version);
      return;
    }

  check_image (check, image, object_get_string (part, "detail"), TRUE);
}

static void
check_user_content (Check    *check,
                    guint     i,
                    JsonNode *content)
{
  g_autoptr(GString) text = g_string_new (NULL);
  JsonArray *parts;
  guint n_parts;

  if (content == NULL || JSON_NODE_HOLDS_NULL (content))
    {
      check_fail (check, "Missing required parameter: 'messages[%u].content'.", i);
      return;
    }

  if (node_holds (content, G_TYPE_STRING))
    {
      g_string_append (text, json_node_get_string (content));
    }
  else if (JSON_NODE_HOLDS_ARRAY (content))
    {
      parts = json_node_get_array (content);
      n_parts = json_array_get_length (parts);

      if (check->version != 0 && check->version < VERSION_FIRST_LEGACY_PARTS)
        check_fail (check,
                    "Invalid type for 'messages[%u].content': expected a string, but got an array "
                    "instead.",
                    i);
      else if (n_parts == 0)
        check_fail (check,
                    "Invalid 'messages[%u].content': empty array. Expected an array with minimum "
                    "length 1, but got an empty array instead.",
                    i);

      for (guint j = 0; j < n_parts; j++)
        {
          JsonNode *part = json_array_get_element (parts, j);

          if (check_uses_typed_parts (check))
            check_typed_part (check, i, j, part, text);
          else
            check_legacy_part (check, i, j, part, text);
        }
    }
  else
    {
      check_fail (check,
                  "Invalid type for 'messages[%u].content': expected one of a string or an array "
                  "of objects, but got %s instead.",
                  i, describe_node_type (content));
    }

  g_free (check->self->last_user_text);
  check->self->last_user_text = g_string_free (g_steal_pointer (&text), FALSE);
}

static void
check_other_content (Check      *check,
                     guint       i,
                     const char *role,
                     JsonNode   *content)
{
  JsonArray *parts;

  if (content == NULL || JSON_NODE_HOLDS_NULL (content))
    {
      /* An assistant message may carry tool calls instead of content. */
      if (!g_str_equal (role, "assistant"))
        check_fail (check, "Missing required parameter: 'messages[%u].content'.", i);
      return;
    }

  if (node_holds (content, G_TYPE_STRING))
    return;

  if (!JSON_NODE_HOLDS_ARRAY (content) || check->version < VERSION_FIRST_STREAM_OPTIONS)
    {
      check_fail (check,
                  "Invalid type for 'messages[%u].content': expected a string, but got %s instead.",
                  i, describe_node_type (content));
      return;
    }

  /* From 2024-10-21 on, system and assistant content may be text parts. */
  parts = json_node_get_array (content);
  for (guint j = 0; j < json_array_get_length (parts); j++)
    check_typed_part (check, i, j, json_array_get_element (parts, j), NULL);
}

static void
check_message (Check    *check,
               guint     i,
               JsonNode *node)
{
  static const char * const roles[] = {
    "system", "assistant", "user", "function", "tool", NULL
  };
  JsonObject *message;
  const char *role;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      check_fail (check,
                  "Invalid type for 'messages[%u]': expected an object, but got %s instead.",
                  i, describe_node_type (node));
      return;
    }

  message = json_node_get_object (node);
  role = object_get_string (message, "role");

  if (role == NULL)
    {
      check_fail (check, "Missing required parameter: 'messages[%u].role'.", i);
      return;
    }

  if (!g_strv_contains (roles, role))
    {
      check_fail (check,
                  "Invalid value: '%s'. Supported values are: 'system', 'assistant', 'user', "
                  "'function', and 'tool'.",
                  role);
      return;
    }

  if (g_str_equal (role, "user"))
    check_user_content (check, i, json_object_get_member (message, "content"));
  else
    check_other_content (check, i, role, json_object_get_member (message, "content"));
}

static void
check_body (Check    *check,
            JsonNode *root)
{
  GazeTestServer *self = check->self;
  JsonObject *object;
  JsonNode *messages;
  JsonNode *node;
  JsonArray *array;

  if (root == NULL)
    {
      check_fail (check,
                  "We could not parse the JSON body of your request. The API expects a JSON "
                  "payload.");
      return;
    }

  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      check_fail (check,
                  "Invalid type for the request body: expected an object, but got %s instead.",
                  describe_node_type (root));
      return;
    }

  object = json_node_get_object (root);
  messages = json_object_get_member (object, "messages");

  if (messages == NULL)
    check_fail (check, "Missing required parameter: 'messages'.");
  else if (!JSON_NODE_HOLDS_ARRAY (messages))
    check_fail (check,
                "Invalid type for 'messages': expected an array, but got %s instead.",
                describe_node_type (messages));
  else if (json_array_get_length (json_node_get_array (messages)) == 0)
    check_fail (check,
                "Invalid 'messages': empty array. Expected an array with minimum length 1, but "
                "got an empty array instead.");

  if (messages != NULL && JSON_NODE_HOLDS_ARRAY (messages))
    {
      array = json_node_get_array (messages);
      self->last_n_messages = json_array_get_length (array);

      for (guint i = 0; i < self->last_n_messages; i++)
        check_message (check, i, json_array_get_element (array, i));
    }

  node = json_object_get_member (object, "max_tokens");
  if (node_holds (node, G_TYPE_INT64))
    {
      self->last_max_tokens = json_node_get_int (node);
      if (self->last_max_tokens < 1)
        check_fail (check,
                    "Invalid 'max_tokens': integer below minimum value. Expected a value >= 1, "
                    "but got %" G_GINT64_FORMAT " instead.",
                    self->last_max_tokens);
    }
  else if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
    {
      check_fail (check,
                  "Invalid type for 'max_tokens': expected an integer, but got %s instead.",
                  describe_node_type (node));
    }

  node = json_object_get_member (object, "stream");
  if (node_holds (node, G_TYPE_BOOLEAN))
    self->last_stream = json_node_get_boolean (node);
  else if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
    check_fail (check,
                "Invalid type for 'stream': expected a boolean, but got %s instead.",
                describe_node_type (node));

  node = json_object_get_member (object, "stream_options");
  if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
    {
      /* Azure refused stream_options before 2024-10-21. */
      if (check->version != 0 && check->version < VERSION_FIRST_STREAM_OPTIONS)
        check_fail (check, "Unrecognized request argument supplied: stream_options");
      else if (!JSON_NODE_HOLDS_OBJECT (node))
        check_fail (check,
                    "Invalid type for 'stream_options': expected an object, but got %s instead.",
                    describe_node_type (node));
      else
        {
          JsonNode *usage = json_object_get_member (json_node_get_object (node), "include_usage");

          if (node_holds (usage, G_TYPE_BOOLEAN))
            self->last_include_usage = json_node_get_boolean (usage);
        }
    }

  if (self->last_images->len > MAX_IMAGES)
    check_fail (check, "Too many images in request. Max is %d.", MAX_IMAGES);
}

/* Returns the api-version as YYYYMMDD, or 0 if it is not of the form
 * YYYY-MM-DD or YYYY-MM-DD-preview.
 */
static guint
parse_api_version (const char *text)
{
  gsize length;
  guint year;
  guint month;
  guint day;

  if (text == NULL)
    return 0;

  length = strlen (text);
  if (length != 10 && !(length == 18 && g_str_has_suffix (text, "-preview")))
    return 0;

  for (guint i = 0; i < 10; i++)
    {
      if ((i == 4 || i == 7) ? text[i] != '-' : !g_ascii_isdigit (text[i]))
        return 0;
    }

  year = g_ascii_digit_value (text[0]) * 1000 + g_ascii_digit_value (text[1]) * 100 +
         g_ascii_digit_value (text[2]) * 10 + g_ascii_digit_value (text[3]);
  month = g_ascii_digit_value (text[5]) * 10 + g_ascii_digit_value (text[6]);
  day = g_ascii_digit_value (text[8]) * 10 + g_ascii_digit_value (text[9]);

  if (year < 2022 || month < 1 || month > 12 || day < 1 || day > 31)
    return 0;

  return year * 10000 + month * 100 + day;
}

/* Writes down what the request carried, and returns the answer its body
 * deserves if the body is wrong (the caller decides whether the body is
 * what matters).
 */
static Reply *
gaze_test_server_record (GazeTestServer    *self,
                         SoupServerMessage *msg,
                         const char        *path,
                         GHashTable        *query)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GBytes) body = NULL;
  const char *api_key;
  Check check = { self, 0, NULL };
  gsize length = 0;
  const char *data;

  g_assert (GAZE_IS_TEST_SERVER (self));

  gaze_test_server_forget_last (self);

  self->n_requests++;
  self->last_path = g_strdup (path);
  if (query != NULL)
    self->last_api_version = g_strdup (g_hash_table_lookup (query, "api-version"));
  self->last_content_type = g_strdup (soup_message_headers_get_content_type (headers, NULL));
  self->last_headers = soup_message_headers_ref (headers);

  api_key = soup_message_headers_get_one (headers, "api-key");
  self->last_key_ok = g_strcmp0 (api_key, GAZE_TEST_SERVER_KEY) == 0;
  self->last_had_authorization = soup_message_headers_get_one (headers, "Authorization") != NULL;

  body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  self->last_raw_body = g_bytes_ref (body);
  data = g_bytes_get_data (body, &length);
  if (length > 0 && json_parser_load_from_data (parser, data, length, NULL) &&
      json_parser_get_root (parser) != NULL)
    self->last_body = json_node_copy (json_parser_get_root (parser));

  check.version = parse_api_version (self->last_api_version);
  check_body (&check, self->last_body);

  return check.error;
}

/* Building the answer */

static void
add_filter_results (JsonBuilder *builder,
                    gboolean     prompt)
{
  static const char * const categories[] = { "hate", "self_harm", "sexual", "violence" };

  json_builder_set_member_name (builder, "content_filter_results");
  json_builder_begin_object (builder);
  for (guint i = 0; i < G_N_ELEMENTS (categories); i++)
    {
      json_builder_set_member_name (builder, categories[i]);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "filtered");
      json_builder_add_boolean_value (builder, FALSE);
      json_builder_set_member_name (builder, "severity");
      json_builder_add_string_value (builder, "safe");
      json_builder_end_object (builder);

      /* The service puts jailbreak between hate and self_harm. */
      if (prompt && i == 0)
        {
          json_builder_set_member_name (builder, "jailbreak");
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "filtered");
          json_builder_add_boolean_value (builder, FALSE);
          json_builder_set_member_name (builder, "detected");
          json_builder_add_boolean_value (builder, FALSE);
          json_builder_end_object (builder);
        }
    }
  json_builder_end_object (builder);
}

static void
add_prompt_filter_results (JsonBuilder *builder)
{
  json_builder_set_member_name (builder, "prompt_filter_results");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "prompt_index");
  json_builder_add_int_value (builder, 0);
  add_filter_results (builder, TRUE);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
}

static guint
count_image_tokens (const ImageRecord *record)
{
  double width = record->width;
  double height = record->height;
  gboolean high;
  guint columns;
  guint rows;

  if (record->width <= 0 || record->height <= 0)
    return 85;

  if (g_strcmp0 (record->detail, "low") == 0)
    high = FALSE;
  else if (g_strcmp0 (record->detail, "high") == 0)
    high = TRUE;
  else
    high = record->width > 512 || record->height > 512;

  if (!high)
    return 85;

  /* Fit in 2048 × 2048, then bring the shorter side down to 768, then
   * count 512-pixel tiles.
   */
  if (MAX (width, height) > 2048)
    {
      double scale = 2048 / MAX (width, height);

      width *= scale;
      height *= scale;
    }
  if (MIN (width, height) > 768)
    {
      double scale = 768 / MIN (width, height);

      width *= scale;
      height *= scale;
    }

  columns = ((guint) (width + 0.5) + 511) / 512;
  rows = ((guint) (height + 0.5) + 511) / 512;

  return 170 * columns * rows + 85;
}

static guint
count_prompt_tokens (GazeTestServer *self)
{
  guint tokens = 3;

  /* A rough count, about four characters a token; images follow the
   * published tile rule.
   */
  tokens += 4 * self->last_n_messages;
  if (self->last_user_text != NULL)
    tokens += (g_utf8_strlen (self->last_user_text, -1) + 3) / 4;

  for (guint i = 0; i < self->last_images->len; i++)
    tokens += count_image_tokens (&g_array_index (self->last_images, ImageRecord, i));

  return tokens;
}

/* The answer says what the server received, so that a test can check the
 * whole round trip: "I see 1 image (512 × 341) and your question: “…”".
 * Each word counts as one token; past max_tokens the answer is cut.
 */
static GStrv
build_answer_words (GazeTestServer  *self,
                    const char     **finish_reason)
{
  g_autoptr(GString) answer = g_string_new ("I see ");
  g_auto(GStrv) words = NULL;

  g_assert (GAZE_IS_TEST_SERVER (self));

  if (self->answers != NULL)
    {
      g_string_assign (answer, self->answers[self->next_answer]);
      if (self->answers[++self->next_answer] == NULL)
        self->next_answer = 0;
    }
  else if (self->last_images->len == 0)
    g_string_append (answer, "no image");
  else
    {
      g_string_append_printf (answer, "%u image%s (",
                              self->last_images->len, self->last_images->len == 1 ? "" : "s");
      for (guint i = 0; i < self->last_images->len; i++)
        {
          const ImageRecord *record = &g_array_index (self->last_images, ImageRecord, i);

          if (i > 0)
            g_string_append (answer, ", ");
          if (record->width > 0)
            g_string_append_printf (answer, "%d × %d", record->width, record->height);
          else
            g_string_append (answer, "?");
        }
      g_string_append_c (answer, ')');
    }

  if (self->answers != NULL)
    ;
  else if (self->last_user_text != NULL && self->last_user_text[0] != '\0')
    g_string_append_printf (answer, " and your question: “%s”", self->last_user_text);
  else
    g_string_append (answer, " and no question");

  words = g_strsplit (answer->str, " ", -1);
  *finish_reason = "stop";

  if (self->last_max_tokens > 0 && g_strv_length (words) > (guint64) self->last_max_tokens)
    {
      g_free (words[self->last_max_tokens]);
      for (gsize i = self->last_max_tokens + 1; words[i] != NULL; i++)
        g_clear_pointer (&words[i], g_free);
      words[self->last_max_tokens] = NULL;
      *finish_reason = "length";
    }

  return g_steal_pointer (&words);
}

/**
 * gaze_test_server_set_answers:
 * @self: a #GazeTestServer
 * @answers: (nullable) (array zero-terminated=1): the texts successful
 *   requests are answered with, in turn, or %NULL for the answer that
 *   describes what the server received
 *
 * For demonstrations and screenshots, where a real-looking answer reads
 * better than the round-trip description the tests check.
 */
void
gaze_test_server_set_answers (GazeTestServer     *self,
                              const char * const *answers)
{
  g_return_if_fail (GAZE_IS_TEST_SERVER (self));

  g_clear_pointer (&self->answers, g_strfreev);
  self->next_answer = 0;
  if (answers != NULL && answers[0] != NULL)
    self->answers = g_strdupv ((GStrv)answers);
}

static void
add_usage (JsonBuilder    *builder,
           GazeTestServer *self,
           guint           completion_tokens)
{
  guint prompt_tokens = count_prompt_tokens (self);

  json_builder_set_member_name (builder, "usage");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "prompt_tokens");
  json_builder_add_int_value (builder, prompt_tokens);
  json_builder_set_member_name (builder, "completion_tokens");
  json_builder_add_int_value (builder, completion_tokens);
  json_builder_set_member_name (builder, "total_tokens");
  json_builder_add_int_value (builder, prompt_tokens + completion_tokens);
  json_builder_end_object (builder);
}

static char *
dup_completion_id (GazeTestServer *self)
{
  return g_strdup_printf ("chatcmpl-GazeTest%06u", self->n_requests);
}

static void
add_success_headers (Reply *reply)
{
  soup_message_headers_append (reply->headers, "x-ratelimit-remaining-requests", "79");
  soup_message_headers_append (reply->headers, "x-ratelimit-remaining-tokens", "79000");
}

/* Shaped like the documented gpt-4 vision-preview answer. */
static Reply *
build_completion (GazeTestServer *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *id = dup_completion_id (self);
  g_autofree char *content = NULL;
  g_auto(GStrv) words = NULL;
  const char *finish_reason;
  Reply *reply;

  words = build_answer_words (self, &finish_reason);
  content = g_strjoinv (" ", words);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, id);
  json_builder_set_member_name (builder, "object");
  json_builder_add_string_value (builder, "chat.completion");
  json_builder_set_member_name (builder, "created");
  json_builder_add_int_value (builder, g_get_real_time () / G_USEC_PER_SEC);
  json_builder_set_member_name (builder, "model");
  json_builder_add_string_value (builder, MODEL_NAME);
  add_prompt_filter_results (builder);
  json_builder_set_member_name (builder, "choices");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "finish_reason");
  json_builder_add_string_value (builder, finish_reason);
  json_builder_set_member_name (builder, "index");
  json_builder_add_int_value (builder, 0);
  json_builder_set_member_name (builder, "message");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "role");
  json_builder_add_string_value (builder, "assistant");
  json_builder_set_member_name (builder, "content");
  json_builder_add_string_value (builder, content);
  json_builder_end_object (builder);
  add_filter_results (builder, FALSE);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  add_usage (builder, self, g_strv_length (words));
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);

  reply = reply_new_json (SOUP_STATUS_OK, root);
  add_success_headers (reply);

  return reply;
}

static char *
dup_event (JsonBuilder *builder)
{
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  g_autofree char *json = json_to_string (root, FALSE);

  json_builder_reset (builder);

  return g_strdup_printf ("data: %s\n\n", json);
}

/* Opens a chunk event and its one choice; the caller adds the delta. */
static void
begin_chunk_event (JsonBuilder *builder)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "choices");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
}

static void
end_chunk_event (JsonBuilder *builder,
                 const char  *id,
                 gint64       created)
{
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "created");
  json_builder_add_int_value (builder, created);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, id);
  json_builder_set_member_name (builder, "model");
  json_builder_add_string_value (builder, MODEL_NAME);
  json_builder_set_member_name (builder, "object");
  json_builder_add_string_value (builder, "chat.completion.chunk");
  json_builder_set_member_name (builder, "system_fingerprint");
  json_builder_add_string_value (builder, SYSTEM_FINGERPRINT);
  json_builder_end_object (builder);
}

static void
add_choice_tail (JsonBuilder *builder,
                 const char  *finish_reason)
{
  json_builder_set_member_name (builder, "finish_reason");
  if (finish_reason != NULL)
    json_builder_add_string_value (builder, finish_reason);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "index");
  json_builder_add_int_value (builder, 0);
  json_builder_set_member_name (builder, "logprobs");
  json_builder_add_null_value (builder);
}

/* The events of a streamed answer, with the quirks of the service: a
 * first event with no choices and the prompt filter results, a role
 * event with empty filter results, one event per word, a finish event
 * with an empty delta, the usage event if asked for, then [DONE].
 */
static GPtrArray *
build_stream_events (GazeTestServer *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *id = dup_completion_id (self);
  gint64 created = g_get_real_time () / G_USEC_PER_SEC;
  g_auto(GStrv) words = NULL;
  const char *finish_reason;

  words = build_answer_words (self, &finish_reason);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "choices");
  json_builder_begin_array (builder);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "created");
  json_builder_add_int_value (builder, 0);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, "");
  json_builder_set_member_name (builder, "model");
  json_builder_add_string_value (builder, "");
  json_builder_set_member_name (builder, "object");
  json_builder_add_string_value (builder, "");
  add_prompt_filter_results (builder);
  json_builder_end_object (builder);
  g_ptr_array_add (events, dup_event (builder));

  begin_chunk_event (builder);
  json_builder_set_member_name (builder, "content_filter_results");
  json_builder_begin_object (builder);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "delta");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "content");
  json_builder_add_string_value (builder, "");
  json_builder_set_member_name (builder, "refusal");
  json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "role");
  json_builder_add_string_value (builder, "assistant");
  json_builder_end_object (builder);
  add_choice_tail (builder, NULL);
  end_chunk_event (builder, id, created);
  g_ptr_array_add (events, dup_event (builder));

  for (guint i = 0; words[i] != NULL; i++)
    {
      g_autofree char *piece = g_strconcat (i > 0 ? " " : "", words[i], NULL);

      begin_chunk_event (builder);
      add_filter_results (builder, FALSE);
      json_builder_set_member_name (builder, "delta");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "content");
      json_builder_add_string_value (builder, piece);
      json_builder_end_object (builder);
      add_choice_tail (builder, NULL);
      end_chunk_event (builder, id, created);
      g_ptr_array_add (events, dup_event (builder));
    }

  begin_chunk_event (builder);
  json_builder_set_member_name (builder, "content_filter_results");
  json_builder_begin_object (builder);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "delta");
  json_builder_begin_object (builder);
  json_builder_end_object (builder);
  add_choice_tail (builder, finish_reason);
  end_chunk_event (builder, id, created);
  g_ptr_array_add (events, dup_event (builder));

  if (self->last_include_usage)
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "choices");
      json_builder_begin_array (builder);
      json_builder_end_array (builder);
      json_builder_set_member_name (builder, "created");
      json_builder_add_int_value (builder, created);
      json_builder_set_member_name (builder, "id");
      json_builder_add_string_value (builder, id);
      json_builder_set_member_name (builder, "model");
      json_builder_add_string_value (builder, MODEL_NAME);
      json_builder_set_member_name (builder, "object");
      json_builder_add_string_value (builder, "chat.completion.chunk");
      json_builder_set_member_name (builder, "system_fingerprint");
      json_builder_add_string_value (builder, SYSTEM_FINGERPRINT);
      add_usage (builder, self, g_strv_length (words));
      json_builder_end_object (builder);
      g_ptr_array_add (events, dup_event (builder));
    }

  g_ptr_array_add (events, g_strdup ("data: [DONE]\n\n"));

  return g_steal_pointer (&events);
}

static void
add_chunk (GPtrArray  *chunks,
           const char *data,
           gsize       length)
{
  if (length > 0)
    g_ptr_array_add (chunks, g_bytes_new (data, length));
}

/* TCP may cut a stream anywhere, so the pieces are cut where a careless
 * parser breaks: two events in one piece, an event cut in its middle,
 * inside a UTF-8 character, and between the two newlines that end it.
 */
static Reply *
build_stream (GazeTestServer *self)
{
  g_autoptr(GPtrArray) events = build_stream_events (self);
  g_autoptr(GString) first = g_string_new (NULL);
  Reply *reply;

  reply = reply_new (REPLY_CHUNKED, SOUP_STATUS_OK, "text/event-stream; charset=utf-8");
  reply->chunks = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  add_success_headers (reply);

  g_string_append (first, g_ptr_array_index (events, 0));
  g_string_append (first, g_ptr_array_index (events, 1));
  add_chunk (reply->chunks, first->str, first->len);

  for (guint i = 2; i < events->len; i++)
    {
      const char *event = g_ptr_array_index (events, i);
      gsize length = strlen (event);
      gsize cut = 0;

      for (gsize j = 0; j < length; j++)
        {
          if ((guchar) event[j] >= 0x80)
            {
              cut = j + 1;
              break;
            }
        }

      if (cut == 0 && i % 3 == 2)
        cut = length / 2;
      else if (cut == 0 && i % 4 == 3)
        cut = length - 1;

      add_chunk (reply->chunks, event, cut);
      add_chunk (reply->chunks, event + cut, length - cut);
    }

  return reply;
}

static Reply *
build_success (GazeTestServer *self)
{
  return self->last_stream ? build_stream (self) : build_completion (self);
}

/* Fills a queued truncated reply with the first half of the answer the
 * request would have had.
 */
static void
gaze_test_server_fill_truncated (GazeTestServer *self,
                                 Reply          *reply)
{
  g_autoptr(Reply) full = build_success (self);
  g_autoptr(GBytes) bytes = NULL;
  gsize length;

  g_assert (GAZE_IS_TEST_SERVER (self));
  g_assert (reply->kind == REPLY_TRUNCATED);

  if (full->kind == REPLY_CHUNKED)
    {
      g_autoptr(GByteArray) all = g_byte_array_new ();

      for (guint i = 0; i < full->chunks->len; i++)
        {
          gsize chunk_length;
          const guint8 *data = g_bytes_get_data (g_ptr_array_index (full->chunks, i),
                                                 &chunk_length);

          g_byte_array_append (all, data, chunk_length);
        }
      bytes = g_byte_array_free_to_bytes (g_steal_pointer (&all));
    }
  else
    {
      bytes = g_bytes_ref (full->body);
    }

  length = g_bytes_get_size (bytes);

  reply->status = SOUP_STATUS_OK;
  g_free (reply->content_type);
  reply->content_type = g_strdup (full->content_type);
  reply->claimed_length = length;
  g_clear_pointer (&reply->body, g_bytes_unref);
  reply->body = g_bytes_new_from_bytes (bytes, 0, length / 2);
}

/* Returns the deployment named by a chat completions path, or NULL. */
static char *
dup_chat_deployment (const char *path)
{
  static const char prefix[] = "/openai/deployments/";
  static const char suffix[] = "/chat/completions";
  gsize length;
  gsize name_length;

  if (path == NULL || !g_str_has_prefix (path, prefix) || !g_str_has_suffix (path, suffix))
    return NULL;

  length = strlen (path);
  if (length <= strlen (prefix) + strlen (suffix))
    return NULL;

  name_length = length - strlen (prefix) - strlen (suffix);
  if (memchr (path + strlen (prefix), '/', name_length) != NULL)
    return NULL;

  return g_strndup (path + strlen (prefix), name_length);
}

/* The checks come in the order the service makes them: the route, then
 * the key, then the deployment, then the body.
 */
static Reply *
gaze_test_server_decide (GazeTestServer    *self,
                         SoupServerMessage *msg,
                         Reply             *body_error)
{
  g_autoptr(Reply) error = body_error;
  g_autofree char *deployment = dup_chat_deployment (self->last_path);

  g_assert (GAZE_IS_TEST_SERVER (self));

  if (deployment == NULL || soup_server_message_get_method (msg) != SOUP_METHOD_POST)
    return reply_new_error (SOUP_STATUS_NOT_FOUND, "404", MESSAGE_RESOURCE_NOT_FOUND);

  if (parse_api_version (self->last_api_version) == 0)
    return reply_new_error (SOUP_STATUS_NOT_FOUND, "404", MESSAGE_RESOURCE_NOT_FOUND);

  if (!self->last_key_ok)
    return reply_new_error (SOUP_STATUS_UNAUTHORIZED, "401", MESSAGE_ACCESS_DENIED);

  if (!g_str_equal (deployment, GAZE_TEST_SERVER_DEPLOYMENT))
    return reply_new_error (SOUP_STATUS_NOT_FOUND, "DeploymentNotFound",
                            MESSAGE_DEPLOYMENT_NOT_FOUND);

  if (g_strcmp0 (self->last_content_type, "application/json") != 0)
    {
      g_autofree char *message =
        g_strdup_printf ("Unsupported Content-Type '%s': this operation only accepts "
                         "'application/json'.",
                         self->last_content_type ? self->last_content_type : "");

      return reply_new_invalid_request (message);
    }

  if (error != NULL)
    return g_steal_pointer (&error);

  return build_success (self);
}

/* Writing the answer */

static void
reply_apply (Reply             *reply,
             SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  g_autoptr(GHashTable) replaced = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *apim_request_id = g_uuid_string_random ();
  g_autofree char *request_id = g_uuid_string_random ();
  SoupMessageHeadersIter iter;
  const char *name;
  const char *value;

  soup_server_message_set_status (msg, reply->status, NULL);

  soup_message_headers_replace (headers, "apim-request-id", apim_request_id);
  soup_message_headers_replace (headers, "x-request-id", request_id);
  soup_message_headers_replace (headers, "x-ms-region", REGION);
  if (reply->content_type != NULL)
    soup_message_headers_replace (headers, "Content-Type", reply->content_type);

  /* A queued reply's headers win over the ones above; a name given twice
   * is sent twice, and one given with no value is not sent at all.
   */
  soup_message_headers_iter_init (&iter, reply->headers);
  while (soup_message_headers_iter_next (&iter, &name, &value))
    {
      if (g_hash_table_add (replaced, g_ascii_strdown (name, -1)))
        soup_message_headers_remove (headers, name);
      if (value[0] != '\0')
        soup_message_headers_append (headers, name, value);
    }

  switch (reply->kind)
    {
    case REPLY_WHOLE:
      if (reply->body != NULL && g_bytes_get_size (reply->body) > 0)
        soup_message_body_append_bytes (body, reply->body);
      soup_message_body_complete (body);
      break;

    case REPLY_TRUNCATED:
      /* libsoup keeps a Content-Length that is already set and writes
       * the shorter body; truncated_wrote_body_cb() then drops the
       * connection. No "Connection: close" here: with it, libsoup 3.2
       * clients read to EOF and take the short body as complete.
       */
      soup_message_headers_set_content_length (headers, reply->claimed_length);
      soup_message_body_append_bytes (body, reply->body);
      soup_message_body_complete (body);
      break;

    case REPLY_CHUNKED:
      soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
      break;

    default:
      g_assert_not_reached ();
    }
}

static GSource *
gaze_test_server_schedule (GazeTestServer *self,
                           guint           ms,
                           GSourceFunc     func,
                           gpointer        data)
{
  GSource *source = g_timeout_source_new (ms);

  g_source_set_callback (source, func, data, NULL);
  g_source_set_static_name (source, "[gaze-test-server] answer");
  g_source_attach (source, self->context);

  return source;
}

static gboolean pending_write_chunk_cb (gpointer data);

/* Appends the next piece of a chunked answer and lets libsoup write it;
 * libsoup pauses the message again by itself when it runs out.
 */
static void
pending_write_chunk (Pending *pending)
{
  SoupMessageBody *body = soup_server_message_get_response_body (pending->msg);
  GPtrArray *chunks = pending->reply->chunks;

  if (pending->next_chunk < chunks->len)
    soup_message_body_append_bytes (body, g_ptr_array_index (chunks, pending->next_chunk++));

  if (pending->next_chunk < chunks->len)
    pending->source = gaze_test_server_schedule (pending->self, pending->self->chunk_interval_ms,
                                                 pending_write_chunk_cb, pending);
  else
    soup_message_body_complete (body);

  /* This only schedules the I/O, so @pending stays valid until we return. */
  soup_server_message_unpause (pending->msg);
}

static gboolean
pending_write_chunk_cb (gpointer data)
{
  Pending *pending = data;

  g_clear_pointer (&pending->source, g_source_unref);
  pending_write_chunk (pending);

  return G_SOURCE_REMOVE;
}

static gboolean
pending_begin_cb (gpointer data)
{
  Pending *pending = data;

  g_clear_pointer (&pending->source, g_source_unref);
  reply_apply (pending->reply, pending->msg);

  if (pending->reply->kind == REPLY_CHUNKED)
    pending_write_chunk (pending);
  else
    soup_server_message_unpause (pending->msg);

  return G_SOURCE_REMOVE;
}

/* Emitted when libsoup is done with the message, written or not (the
 * client may have gone away), so nothing may touch it afterwards.
 */
static void
pending_finished_cb (SoupServerMessage *msg,
                     Pending           *pending)
{
  g_assert (SOUP_IS_SERVER_MESSAGE (msg));

  g_ptr_array_remove_fast (pending->self->pending, pending);
}

/* Once the short body is out, takes the connection away from libsoup and
 * closes it, so the client sees the body end before Content-Length says
 * it should. libsoup documents stealing from wrote-body; it then never
 * emits finished for the message.
 */
static void
truncated_wrote_body_cb (SoupServerMessage *msg,
                         GazeTestServer    *self)
{
  g_autoptr(GIOStream) stream = NULL;

  g_assert (SOUP_IS_SERVER_MESSAGE (msg));
  g_assert (GAZE_IS_TEST_SERVER (self));

  stream = soup_server_message_steal_connection (msg);
  if (stream != NULL)
    g_io_stream_close (stream, NULL, NULL);

  for (guint i = 0; i < self->pending->len; i++)
    {
      Pending *pending = g_ptr_array_index (self->pending, i);

      if (pending->msg == msg)
        {
          g_ptr_array_remove_index_fast (self->pending, i);
          break;
        }
    }
}

static void
gaze_test_server_answer (GazeTestServer    *self,
                         SoupServerMessage *msg,
                         Reply             *reply)
{
  Pending *pending;

  g_assert (GAZE_IS_TEST_SERVER (self));

  if (reply->kind == REPLY_TRUNCATED)
    g_signal_connect_object (msg, "wrote-body", G_CALLBACK (truncated_wrote_body_cb), self, 0);

  if (self->delay_ms == 0 && reply->kind != REPLY_CHUNKED)
    {
      reply_apply (reply, msg);
      reply_free (reply);
      return;
    }

  pending = g_new0 (Pending, 1);
  pending->self = self;
  pending->msg = g_object_ref (msg);
  pending->reply = reply;
  pending->finished_id = g_signal_connect (msg, "finished",
                                           G_CALLBACK (pending_finished_cb), pending);
  g_ptr_array_add (self->pending, pending);

  soup_server_message_pause (msg);
  pending->source = gaze_test_server_schedule (self, self->delay_ms, pending_begin_cb, pending);
}

static void
gaze_test_server_wrote_body_data_cb (SoupServerMessage *msg,
                                     guint              size,
                                     GazeTestServer    *self)
{
  g_assert (GAZE_IS_TEST_SERVER (self));

  if (msg == self->answering)
    self->answer_written += size;
}

/* Written whole, or given up because the client went away. */
static void
gaze_test_server_answer_finished_cb (SoupServerMessage *msg,
                                     GazeTestServer    *self)
{
  g_assert (GAZE_IS_TEST_SERVER (self));

  if (msg == self->answering)
    self->answer_done = TRUE;
}

static void
gaze_test_server_handle (SoupServer        *server,
                         SoupServerMessage *msg,
                         const char        *path,
                         GHashTable        *query,
                         gpointer           user_data)
{
  GazeTestServer *self = user_data;
  Reply *body_error;
  Reply *reply;

  g_assert (SOUP_IS_SERVER (server));
  g_assert (GAZE_IS_TEST_SERVER (self));

  body_error = gaze_test_server_record (self, msg, path, query);
  reply = g_queue_pop_head (&self->queued);

  if (reply == NULL)
    {
      reply = gaze_test_server_decide (self, msg, body_error);
    }
  else
    {
      g_clear_pointer (&body_error, reply_free);
      if (reply->kind == REPLY_TRUNCATED)
        gaze_test_server_fill_truncated (self, reply);
    }

  g_debug ("%s %s → %u", soup_server_message_get_method (msg), path, reply->status);

  self->answering = msg;
  self->answer_written = 0;
  self->answer_done = FALSE;
  g_signal_connect_object (msg, "wrote-body-data",
                           G_CALLBACK (gaze_test_server_wrote_body_data_cb), self, 0);
  g_signal_connect_object (msg, "finished",
                           G_CALLBACK (gaze_test_server_answer_finished_cb), self, 0);

  gaze_test_server_answer (self, msg, reply);
}

/* Before its headers are read: the first sign that a client sent anything. */
static void
gaze_test_server_request_started_cb (SoupServer        *server,
                                     SoupServerMessage *msg,
                                     GazeTestServer    *self)
{
  g_assert (SOUP_IS_SERVER (server));
  g_assert (GAZE_IS_TEST_SERVER (self));

  self->n_started++;
}

static void
gaze_test_server_dispose (GObject *object)
{
  GazeTestServer *self = (GazeTestServer *) object;

  /* Let go of paused messages before the sockets under them close. */
  if (self->pending != NULL)
    g_ptr_array_set_size (self->pending, 0);

  if (self->server != NULL)
    soup_server_disconnect (self->server);
  g_clear_object (&self->server);

  g_queue_clear_full (&self->queued, (GDestroyNotify) reply_free);

  G_OBJECT_CLASS (gaze_test_server_parent_class)->dispose (object);
}

static void
gaze_test_server_finalize (GObject *object)
{
  GazeTestServer *self = (GazeTestServer *) object;

  gaze_test_server_forget_last (self);
  g_clear_pointer (&self->last_images, g_array_unref);
  g_clear_pointer (&self->pending, g_ptr_array_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->answers, g_strfreev);

  G_OBJECT_CLASS (gaze_test_server_parent_class)->finalize (object);
}

static void
gaze_test_server_class_init (GazeTestServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = gaze_test_server_dispose;
  object_class->finalize = gaze_test_server_finalize;
}

static void
gaze_test_server_init (GazeTestServer *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->chunk_interval_ms = CHUNK_INTERVAL_MS;
  self->pending = g_ptr_array_new_with_free_func ((GDestroyNotify) pending_free);
  self->last_images = g_array_new (FALSE, TRUE, sizeof (ImageRecord));
  g_array_set_clear_func (self->last_images, image_record_clear);
  self->last_max_tokens = -1;
  g_queue_init (&self->queued);

  self->server = g_object_new (SOUP_TYPE_SERVER, NULL);
  soup_server_add_handler (self->server, NULL, gaze_test_server_handle, self, NULL);
  g_signal_connect (self->server, "request-started",
                    G_CALLBACK (gaze_test_server_request_started_cb), self);
}

static gboolean
gaze_test_server_listen (GazeTestServer          *self,
                         guint                    port,
                         SoupServerListenOptions  options,
                         GError                 **error)
{
  GSList *uris;

  g_assert (GAZE_IS_TEST_SERVER (self));

  if (!soup_server_listen_local (self->server, port, options | SOUP_SERVER_LISTEN_IPV4_ONLY, error))
    return FALSE;

  uris = soup_server_get_uris (self->server);
  g_assert (uris != NULL);
  self->port = g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  return TRUE;
}

/**
 * gaze_test_server_new_for_port:
 * @port: the port to listen on, or 0 for any free one
 * @error: a location for a #GError
 *
 * Creates a server listening on 127.0.0.1:@port that serves in the
 * thread-default main context of the caller.
 *
 * Returns: (transfer full) (nullable): the server, or %NULL if it cannot
 *   listen on @port
 */
GazeTestServer *
gaze_test_server_new_for_port (guint    port,
                               GError **error)
{
  g_autoptr(GazeTestServer) self = NULL;

  g_return_val_if_fail (port <= G_MAXUINT16, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (GAZE_TYPE_TEST_SERVER, NULL);

  if (!gaze_test_server_listen (self, port, 0, error))
    return NULL;

  return g_steal_pointer (&self);
}

/**
 * gaze_test_server_new_tls:
 * @certificate: the certificate, with its private key, that the server shows
 * @error: a location for a #GError
 *
 * Creates a server like gaze_test_server_new_for_port() on a free port,
 * that speaks only HTTPS. Its endpoint starts with https://. Nothing
 * trusts the test certificate, so a client that checks certificates
 * must never get as far as sending a request.
 *
 * Returns: (transfer full) (nullable): the server, or %NULL if it cannot
 *   listen or TLS is not available
 */
GazeTestServer *
gaze_test_server_new_tls (GTlsCertificate  *certificate,
                          GError          **error)
{
  g_autoptr(GazeTestServer) self = NULL;

  g_return_val_if_fail (G_IS_TLS_CERTIFICATE (certificate), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (GAZE_TYPE_TEST_SERVER, NULL);
  self->tls = TRUE;
  soup_server_set_tls_certificate (self->server, certificate);

  if (!gaze_test_server_listen (self, 0, SOUP_SERVER_LISTEN_HTTPS, error))
    return NULL;

  return g_steal_pointer (&self);
}

/**
 * gaze_test_server_new:
 *
 * Creates a server listening on 127.0.0.1 at a free port, serving in the
 * thread-default main context of the caller. Failing to listen is a
 * fatal error: no test can go on without it.
 *
 * Returns: (transfer full): the server
 */
GazeTestServer *
gaze_test_server_new (void)
{
  g_autoptr(GError) error = NULL;
  GazeTestServer *self;

  self = gaze_test_server_new_for_port (0, &error);
  if (self == NULL)
    g_error ("Cannot listen on 127.0.0.1: %s", error->message);

  return self;
}

guint
gaze_test_server_get_port (GazeTestServer *self)
{
  g_return_val_if_fail (GAZE_IS_TEST_SERVER (self), 0);

  return self->port;
}

/**
 * gaze_test_server_dup_endpoint:
 * @self: a #GazeTestServer
 *
 * Returns: (transfer full): "http://127.0.0.1:PORT" ("https://" for a
 *   server made with gaze_test_server_new_tls()), without a trailing slash
 */
char *
gaze_test_server_dup_endpoint (GazeTestServer *self)
{
  g_return_val_if_fail (GAZE_IS_TEST_SERVER (self), NULL);

  return g_strdup_printf ("%s://127.0.0.1:%u", self->tls ? "https" : "http", self->port);
}

static void
gaze_test_server_queue (GazeTestServer     *self,
                        guint               status,
                        const char         *content_type,
                        const char         *body,
                        gsize               length,
                        const char * const *headers)
{
  Reply *reply;

  g_assert (GAZE_IS_TEST_SERVER (self));

  if (content_type == NULL && body != NULL)
    content_type = "application/json";

  reply = reply_new_for_body (status, content_type, body != NULL ? body : "", length);

  for (guint i = 0; headers != NULL && headers[i] != NULL; i++)
    {
      const char *colon = strchr (headers[i], ':');
      g_autofree char *name = NULL;
      g_autofree char *value = NULL;

      if (colon == NULL || colon == headers[i])
        {
          g_critical ("Header “%s” is not of the form “Name: value”", headers[i]);
          continue;
        }

      name = g_strstrip (g_strndup (headers[i], colon - headers[i]));
      value = g_strstrip (g_strdup (colon + 1));
      soup_message_headers_append (reply->headers, name, value);
    }

  g_queue_push_tail (&self->queued, reply);
}

/**
 * gaze_test_server_queue_reply:
 * @self: a #GazeTestServer
 * @status: the HTTP status
 * @content_type: (nullable): the Content-Type; application/json if %NULL
 *   and @body is not
 * @body: (nullable): the body
 * @headers: (nullable) (array zero-terminated=1): more headers, each as
 *   "Name: value"; "Name:" with no value leaves out a header the server
 *   would send, such as apim-request-id
 *
 * Makes the next request that has no reply queued before it get exactly
 * this answer, whatever it carries. The request is still recorded. A
 * text/event-stream body is sent chunked, one event per chunk.
 */
void
gaze_test_server_queue_reply (GazeTestServer     *self,
                              guint               status,
                              const char         *content_type,
                              const char         *body,
                              const char * const *headers)
{
  g_return_if_fail (GAZE_IS_TEST_SERVER (self));
  g_return_if_fail (status >= 200 && status < 600);

  gaze_test_server_queue (self, status, content_type, body, body ? strlen (body) : 0, headers);
}

/**
 * gaze_test_server_queue_reply_file:
 * @self: a #GazeTestServer
 * @status: the HTTP status
 * @path: a file whose contents are the body
 * @headers: (nullable) (array zero-terminated=1): more headers
 *
 * Like gaze_test_server_queue_reply(), with the body read from @path.
 * A .json file goes out as application/json, a .txt or .sse file as
 * text/event-stream.
 */
void
gaze_test_server_queue_reply_file (GazeTestServer     *self,
                                   guint               status,
                                   const char         *path,
                                   const char * const *headers)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *guessed = NULL;
  const char *content_type;
  gsize length = 0;

  g_return_if_fail (GAZE_IS_TEST_SERVER (self));
  g_return_if_fail (status >= 200 && status < 600);
  g_return_if_fail (path != NULL);

  if (!g_file_get_contents (path, &contents, &length, &error))
    {
      g_critical ("Cannot queue a reply from %s: %s", path, error->message);
      return;
    }

  if (g_str_has_suffix (path, ".json"))
    content_type = "application/json";
  else if (g_str_has_suffix (path, ".txt") || g_str_has_suffix (path, ".sse"))
    content_type = "text/event-stream; charset=utf-8";
  else
    {
      g_autofree char *type = g_content_type_guess (path, (const guchar *) contents, length, NULL);

      guessed = g_content_type_get_mime_type (type);
      content_type = guessed != NULL ? guessed : "application/octet-stream";
    }

  gaze_test_server_queue (self, status, content_type, contents, length, headers);
}

/**
 * gaze_test_server_queue_chunked_reply:
 * @self: a #GazeTestServer
 * @status: the HTTP status
 * @content_type: the Content-Type
 * @piece: what the body is made of
 * @n_pieces: how many times @piece is sent
 *
 * Makes the next answer a body of @n_pieces times @piece, chunked, so
 * without a Content-Length, one piece a chunk and one chunk each turn of
 * the main loop (see gaze_test_server_set_chunk_interval()). Only @piece
 * is held in memory, however large the body.
 */
void
gaze_test_server_queue_chunked_reply (GazeTestServer *self,
                                      guint           status,
                                      const char     *content_type,
                                      GBytes         *piece,
                                      guint           n_pieces)
{
  Reply *reply;

  g_return_if_fail (GAZE_IS_TEST_SERVER (self));
  g_return_if_fail (status >= 200 && status < 600);
  g_return_if_fail (content_type != NULL);
  g_return_if_fail (piece != NULL && g_bytes_get_size (piece) > 0);

  reply = reply_new (REPLY_CHUNKED, status, content_type);
  reply->chunks = g_ptr_array_new_full (n_pieces, (GDestroyNotify) g_bytes_unref);
  for (guint i = 0; i < n_pieces; i++)
    g_ptr_array_add (reply->chunks, g_bytes_ref (piece));

  g_queue_push_tail (&self->queued, reply);
}

/**
 * gaze_test_server_queue_truncated:
 * @self: a #GazeTestServer
 *
 * Makes the next answer a 200 whose Content-Length promises the whole
 * answer the request deserves (JSON, or the event stream if it asked for
 * one), of which only the first half is sent before the connection
 * closes.
 */
void
gaze_test_server_queue_truncated (GazeTestServer *self)
{
  g_return_if_fail (GAZE_IS_TEST_SERVER (self));

  g_queue_push_tail (&self->queued, reply_new (REPLY_TRUNCATED, SOUP_STATUS_OK, NULL));
}

/**
 * gaze_test_server_set_delay:
 * @self: a #GazeTestServer
 * @ms: how long to wait before answering
 *
 * Delays every answer, so that a test can cancel a request in flight.
 */
void
gaze_test_server_set_delay (GazeTestServer *self,
                            guint           ms)
{
  g_return_if_fail (GAZE_IS_TEST_SERVER (self));

  self->delay_ms = ms;
}

/**
 * gaze_test_server_set_chunk_interval:
 * @self: a #GazeTestServer
 * @ms: the pause between two pieces of a chunked answer
 *
 * A long pause stalls a stream in its middle; 0 sends the pieces as fast
 * as the main loop turns.
 */
void
gaze_test_server_set_chunk_interval (GazeTestServer *self,
                                     guint           ms)
{
  g_return_if_fail (GAZE_IS_TEST_SERVER (self));

  self->chunk_interval_ms = ms;
}

/**
 * gaze_test_server_get_n_started:
 * @self: a #GazeTestServer
 *
 * Returns: how many requests have begun to arrive, including those whose
 *   headers or body are still on their way
 */
guint
gaze_test_server_get_n_started (GazeTestServer *self)
{
  g_return_val_if_fail (GAZE_IS_TEST_SERVER (self), 0);

  return self->n_started;
}

/**
 * gaze_test_server_get_n_requests:
 * @self: a #GazeTestServer
 *
 * Returns: how many requests have arrived whole, body and all
 */
guint
gaze_test_server_get_n_requests (GazeTestServer *self)
{
  g_return_val_if_fail (GAZE_IS_TEST_SERVER (self), 0);

  return self->n_requests;
}

const char *
gaze_test_server_get_last_path (GazeTestServer *self)
{
  g_return_val_if_fail (GAZE_IS_TEST_SERVER (self), NULL);

  return self->last_path;
}

const char *
gaze_test_server_get_last_api_version (GazeTestServer *self)
{
  g_return_val_if_fail (GAZE_IS_TEST_SERVER (self), NULL);

  return self->last_api_version;
}

/**
 * gaze_test_server_get_last_content_type:
 * @self: a #GazeTestServer
 *
 * Returns: (nullable): the media type of the last request, without its
 *   parameters ("application/json" for "application/json; charset=utf-8")
 */
const char *
gaze_test_server_get_last_content_type (GazeTestServer *self)
{
  g_return_val_if_fail (GAZE_IS_TEST_SERVER (self), NULL);

  return self->last_content_type;
}

/**
 * gaze_test_server_get_last_header:
 * @self: a #GazeTestServer
 * @name: a header name
 *
 * Returns: (nullable): the value of the header @name in the last request
 */
const char *
gaze_test_server_get_last_header (GazeTestServer *self,
                                  const char     *name)
{
  g_return_val_if_fail (GAZE_IS_TEST_SERVER (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  if (self->last_headers == NULL)
    return NULL;

  return soup_message_headers_get_one (self->last_headers, name);
}

gboolean
gaze_test_server_get_last_key_ok (GazeTestServer *self)
{
  g_return_val_if_fail (GAZE_IS_TEST_SERVER (self), FALSE);

  return self->last_key_ok;
}

gboolean
gaze_test_server_get_last_had_authorization (GazeTestServer *self)
{
  g_return_val_if_fail (GAZE_IS_TEST_SERVER (self), FALSE);

  return self->last_had_authorization;
}

/**
 * gaze_test_server_get_last_answer_written:
 * @self: a #GazeTestServer
 *
 * Returns: how many bytes of the last answer's body have gone out to the
 *   client so far
 */
guint64
gaze_test_server_get_last_answer_written (GazeTestServer *self)
{
  g_return_val_if_fail (GAZE_IS_TEST_SERVER (self), 0);

  return self->answer_written;
}

/**
 * gaze_test_server_get_last_answer_done:
 * @self: a #GazeTestServer
 *
 * Returns: whether the server is done with the last answer: written
 *   whole, or given up because the client closed the connection
 */
gboolean
gaze_test_server_get_last_answer_done (GazeTestServer *self)
{
  g_return_val_if_fail (GAZE_IS_TEST_SERVER (self), FALSE);

  return self->answer_done;
}

/**
 * gaze_test_server_get_last_raw_body:
 * @self: a #GazeTestServer
 *
 * Returns: (transfer none) (nullable): the last request body, byte for
 *   byte as it arrived
 */
GBytes *
gaze_test_server_get_last_raw_body (GazeTestServer *self)
{
  g_return_val_if_fail (GAZE_IS_TEST_SERVER (self), NULL);

  return self->last_raw_body;
}

/**
 * gaze_test_server_get_last_body:
 * @self: a #GazeTestServer
 *
 * Returns: (transfer none) (nullable): the last request body, parsed, or
 *   %NULL if it was not JSON
 */
JsonNode *
gaze_test_server_get_last_body (GazeTestServer *self)
{
  g_return_val_if_fail (GAZE_IS_TEST_SERVER (self), NULL);

  return self->last_body;
}

/**
 * gaze_test_server_get_last_n_images:
 * @self: a #GazeTestServer
 *
 * Returns: how many images all the messages of the last request carried
 */
guint
gaze_test_server_get_last_n_images (GazeTestServer *self)
{
  g_return_val_if_fail (GAZE_IS_TEST_SERVER (self), 0);

  return self->last_images->len;
}

/**
 * gaze_test_server_get_last_image_size:
 * @self: a #GazeTestServer
 * @i: the index of an image, in the order of the request
 * @width: (out) (optional): the decoded width, or -1 if it did not decode
 * @height: (out) (optional): the decoded height, or -1 if it did not decode
 */
void
gaze_test_server_get_last_image_size (GazeTestServer *self,
                                      guint           i,
                                      int            *width,
                                      int            *height)
{
  const ImageRecord *record;

  if (width != NULL)
    *width = -1;
  if (height != NULL)
    *height = -1;

  g_return_if_fail (GAZE_IS_TEST_SERVER (self));
  g_return_if_fail (i < self->last_images->len);

  record = &g_array_index (self->last_images, ImageRecord, i);
  if (width != NULL)
    *width = record->width;
  if (height != NULL)
    *height = record->height;
}

/**
 * gaze_test_server_get_last_image_detail:
 * @self: a #GazeTestServer
 * @i: the index of an image
 *
 * Returns: (nullable): the detail the image was sent with, or %NULL if
 *   none was given
 */
const char *
gaze_test_server_get_last_image_detail (GazeTestServer *self,
                                        guint           i)
{
  g_return_val_if_fail (GAZE_IS_TEST_SERVER (self), NULL);
  g_return_val_if_fail (i < self->last_images->len, NULL);

  return g_array_index (self->last_images, ImageRecord, i).detail;
}

/**
 * gaze_test_server_get_last_image_mime:
 * @self: a #GazeTestServer
 * @i: the index of an image
 *
 * Returns: (nullable): the MIME type of the data: URL, lower case, or
 *   %NULL if the image was not a data: URL (plain legacy base64)
 */
const char *
gaze_test_server_get_last_image_mime (GazeTestServer *self,
                                      guint           i)
{
  g_return_val_if_fail (GAZE_IS_TEST_SERVER (self), NULL);
  g_return_val_if_fail (i < self->last_images->len, NULL);

  return g_array_index (self->last_images, ImageRecord, i).mime;
}

/**
 * gaze_test_server_dup_last_user_text:
 * @self: a #GazeTestServer
 *
 * Returns: (transfer full) (nullable): the text parts of the last user
 *   message, joined with "\n", or %NULL if there was no user message
 */
char *
gaze_test_server_dup_last_user_text (GazeTestServer *self)
{
  g_return_val_if_fail (GAZE_IS_TEST_SERVER (self), NULL);

  return g_strdup (self->last_user_text);
}

guint
gaze_test_server_get_last_n_messages (GazeTestServer *self)
{
  g_return_val_if_fail (GAZE_IS_TEST_SERVER (self), 0);

  return self->last_n_messages;
}

/**
 * gaze_test_server_get_last_max_tokens:
 * @self: a #GazeTestServer
 *
 * Returns: max_tokens of the last request, or -1 if it had none
 */
gint64
gaze_test_server_get_last_max_tokens (GazeTestServer *self)
{
  g_return_val_if_fail (GAZE_IS_TEST_SERVER (self), -1);

  return self->last_max_tokens;
}

gboolean
gaze_test_server_get_last_stream (GazeTestServer *self)
{
  g_return_val_if_fail (GAZE_IS_TEST_SERVER (self), FALSE);

  return self->last_stream;
}
