/* test-request.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>
#include <json-glib/json-glib.h>

#include "gaze-endpoint.h"
#include "gaze-image.h"
#include "gaze-request.h"
#include "gaze-request-private.h"

/* Where each test writes the body it built, for validate-request.py:
 * set by "--dump DIR" or GAZE_DUMP_DIR.
 */
static const char *dump_dir;

#define BASE64_ALPHABET "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="

#define MAX_TURNS 6

typedef struct
{
  const char *role;
  const char *text;
  /* One letter per image: 'l'ow, 'h'igh or 'a'uto; an 'x', before the
   * others, is a photo of an earlier turn that is left out and named. */
  const char *images;
} Turn;

/* The expected bodies are JSON with ' for " so that they stay readable;
 * \\' is an escaped quote. @IMAGEn@ stands for the base64 of the row's
 * n-th attached image, counted over all its turns; photo-N.jpg counts
 * every image, left out or not.
 */
typedef struct
{
  const char *name;
  const char *system_prompt;
  guint       max_tokens;   /* 0 leaves the default */
  gboolean    stream;
  Turn        turns[MAX_TURNS];
  const char *expected;
  const char *expected_legacy;
  /* What the photos are named before their number; NULL for "photo". */
  const char *photo_name;
} RequestCase;

static const RequestCase request_cases[] = {
  {
    "text-only", NULL, 0, FALSE,
    { { "user", "Hello", "" } },
    "{'messages':[{'role':'user','content':[{'type':'text','text':'Hello'}]}],"
    "'max_tokens':800,'stream':false}",
    "{'messages':[{'role':'user','content':['Hello']}],'max_tokens':800,'stream':false}",
  },
  {
    "system-prompt", "You are a helpful assistant.", 0, FALSE,
    { { "user", "Hello", "" } },
    "{'messages':[{'role':'system','content':'You are a helpful assistant.'},"
    "{'role':'user','content':[{'type':'text','text':'Hello'}]}],'max_tokens':800,'stream':false}",
    "{'messages':[{'role':'system','content':'You are a helpful assistant.'},"
    "{'role':'user','content':['Hello']}],'max_tokens':800,'stream':false}",
  },
  {
    "system-prompt-trimmed", "  Be brief.\n", 0, FALSE,
    { { "user", "Hello", "" } },
    "{'messages':[{'role':'system','content':'Be brief.'},"
    "{'role':'user','content':[{'type':'text','text':'Hello'}]}],'max_tokens':800,'stream':false}",
    "{'messages':[{'role':'system','content':'Be brief.'},"
    "{'role':'user','content':['Hello']}],'max_tokens':800,'stream':false}",
  },
  {
    "system-prompt-blank", " \n\t ", 0, FALSE,
    { { "user", "Hello", "" } },
    "{'messages':[{'role':'user','content':[{'type':'text','text':'Hello'}]}],"
    "'max_tokens':800,'stream':false}",
    "{'messages':[{'role':'user','content':['Hello']}],'max_tokens':800,'stream':false}",
  },
  {
    "system-prompt-empty", "", 0, FALSE,
    { { "user", "Hello", "" } },
    "{'messages':[{'role':'user','content':[{'type':'text','text':'Hello'}]}],"
    "'max_tokens':800,'stream':false}",
    "{'messages':[{'role':'user','content':['Hello']}],'max_tokens':800,'stream':false}",
  },
  {
    "max-tokens", NULL, 100, FALSE,
    { { "user", "Hello", "" } },
    "{'messages':[{'role':'user','content':[{'type':'text','text':'Hello'}]}],"
    "'max_tokens':100,'stream':false}",
    "{'messages':[{'role':'user','content':['Hello']}],'max_tokens':100,'stream':false}",
  },
  {
    "max-tokens-large", NULL, 4096, FALSE,
    { { "user", "Hello", "" } },
    "{'messages':[{'role':'user','content':[{'type':'text','text':'Hello'}]}],"
    "'max_tokens':4096,'stream':false}",
    "{'messages':[{'role':'user','content':['Hello']}],'max_tokens':4096,'stream':false}",
  },
  {
    "stream", NULL, 0, TRUE,
    { { "user", "Hello", "" } },
    "{'messages':[{'role':'user','content':[{'type':'text','text':'Hello'}]}],"
    "'max_tokens':800,'stream':true}",
    "{'messages':[{'role':'user','content':['Hello']}],'max_tokens':800,'stream':true}",
  },
  {
    "image-low", "You are a helpful assistant.", 100, FALSE,
    { { "user", "Describe this picture:", "l" } },
    "{'messages':[{'role':'system','content':'You are a helpful assistant.'},"
    "{'role':'user','content':[{'type':'text','text':'Describe this picture:'},"
    "{'type':'image_url','image_url':{'url':'data:image/jpeg;base64,@IMAGE0@','detail':'low'}}]}],"
    "'max_tokens':100,'stream':false}",
    "{'messages':[{'role':'system','content':'You are a helpful assistant.'},"
    "{'role':'user','content':['Describe this picture:',{'image':'@IMAGE0@'}]}],"
    "'max_tokens':100,'stream':false}",
  },
  {
    "image-high", NULL, 0, TRUE,
    { { "user", "Read the sign.", "h" } },
    "{'messages':[{'role':'user','content':[{'type':'text','text':'Read the sign.'},"
    "{'type':'image_url','image_url':{'url':'data:image/jpeg;base64,@IMAGE0@','detail':'high'}}]}],"
    "'max_tokens':800,'stream':true}",
    "{'messages':[{'role':'user','content':['Read the sign.',{'image':'@IMAGE0@'}]}],"
    "'max_tokens':800,'stream':true}",
  },
  {
    "image-auto", NULL, 0, FALSE,
    { { "user", "What is this?", "a" } },
    "{'messages':[{'role':'user','content':[{'type':'text','text':'What is this?'},"
    "{'type':'image_url','image_url':{'url':'data:image/jpeg;base64,@IMAGE0@','detail':'auto'}}]}],"
    "'max_tokens':800,'stream':false}",
    "{'messages':[{'role':'user','content':['What is this?',{'image':'@IMAGE0@'}]}],"
    "'max_tokens':800,'stream':false}",
  },
  {
    "image-without-text", NULL, 0, FALSE,
    { { "user", "", "l" } },
    "{'messages':[{'role':'user','content':["
    "{'type':'image_url','image_url':{'url':'data:image/jpeg;base64,@IMAGE0@','detail':'low'}}]}],"
    "'max_tokens':800,'stream':false}",
    "{'messages':[{'role':'user','content':[{'image':'@IMAGE0@'}]}],"
    "'max_tokens':800,'stream':false}",
  },
  {
    "several-images", NULL, 0, FALSE,
    { { "user", "Compare these.", "lha" } },
    "{'messages':[{'role':'user','content':[{'type':'text','text':'Compare these.'},"
    "{'type':'image_url','image_url':{'url':'data:image/jpeg;base64,@IMAGE0@','detail':'low'}},"
    "{'type':'image_url','image_url':{'url':'data:image/jpeg;base64,@IMAGE1@','detail':'high'}},"
    "{'type':'image_url','image_url':{'url':'data:image/jpeg;base64,@IMAGE2@','detail':'auto'}}]}],"
    "'max_tokens':800,'stream':false}",
    "{'messages':[{'role':'user','content':['Compare these.',"
    "{'image':'@IMAGE0@'},{'image':'@IMAGE1@'},{'image':'@IMAGE2@'}]}],"
    "'max_tokens':800,'stream':false}",
  },
  {
    "conversation", "You describe photos.", 300, TRUE,
    {
      { "user", "What is in this photo?", "l" },
      { "assistant", "A red bicycle.", "" },
      { "user", "And in this one?", "h" },
      { "assistant", "A brick wall.", "" },
      { "user", "Which is older?", "" },
    },
    "{'messages':[{'role':'system','content':'You describe photos.'},"
    "{'role':'user','content':[{'type':'text','text':'What is in this photo?'},"
    "{'type':'image_url','image_url':{'url':'data:image/jpeg;base64,@IMAGE0@','detail':'low'}}]},"
    "{'role':'assistant','content':'A red bicycle.'},"
    "{'role':'user','content':[{'type':'text','text':'And in this one?'},"
    "{'type':'image_url','image_url':{'url':'data:image/jpeg;base64,@IMAGE1@','detail':'high'}}]},"
    "{'role':'assistant','content':'A brick wall.'},"
    "{'role':'user','content':[{'type':'text','text':'Which is older?'}]}],"
    "'max_tokens':300,'stream':true}",
    "{'messages':[{'role':'system','content':'You describe photos.'},"
    "{'role':'user','content':['What is in this photo?',{'image':'@IMAGE0@'}]},"
    "{'role':'assistant','content':'A red bicycle.'},"
    "{'role':'user','content':['And in this one?',{'image':'@IMAGE1@'}]},"
    "{'role':'assistant','content':'A brick wall.'},"
    "{'role':'user','content':['Which is older?']}],"
    "'max_tokens':300,'stream':true}",
  },
  {
    "left-out", NULL, 0, FALSE,
    {
      { "user", "What are these?", "xxl" },
      { "assistant", "Three boats.", "" },
      { "user", "And this one?", "h" },
    },
    "{'messages':[{'role':'user','content':[{'type':'text','text':'What are these?'},"
    "{'type':'text','text':'[The photo \\'photo-0.jpg\\' was shown earlier in this conversation "
    "and is no longer attached.]'},"
    "{'type':'text','text':'[The photo \\'photo-1.jpg\\' was shown earlier in this conversation "
    "and is no longer attached.]'},"
    "{'type':'image_url','image_url':{'url':'data:image/jpeg;base64,@IMAGE0@','detail':'low'}}]},"
    "{'role':'assistant','content':'Three boats.'},"
    "{'role':'user','content':[{'type':'text','text':'And this one?'},"
    "{'type':'image_url','image_url':{'url':'data:image/jpeg;base64,@IMAGE1@','detail':'high'}}]}],"
    "'max_tokens':800,'stream':false}",
    "{'messages':[{'role':'user','content':['What are these?',"
    "'[The photo \\'photo-0.jpg\\' was shown earlier in this conversation "
    "and is no longer attached.]',"
    "'[The photo \\'photo-1.jpg\\' was shown earlier in this conversation "
    "and is no longer attached.]',"
    "{'image':'@IMAGE0@'}]},"
    "{'role':'assistant','content':'Three boats.'},"
    "{'role':'user','content':['And this one?',{'image':'@IMAGE1@'}]}],"
    "'max_tokens':800,'stream':false}",
  },
  {
    "text-conversation", NULL, 0, FALSE,
    {
      { "user", "Hi", "" },
      { "assistant", "Hello! How can I help?", "" },
      { "user", "Tell me a joke.", "" },
    },
    "{'messages':[{'role':'user','content':[{'type':'text','text':'Hi'}]},"
    "{'role':'assistant','content':'Hello! How can I help?'},"
    "{'role':'user','content':[{'type':'text','text':'Tell me a joke.'}]}],"
    "'max_tokens':800,'stream':false}",
    "{'messages':[{'role':'user','content':['Hi']},"
    "{'role':'assistant','content':'Hello! How can I help?'},"
    "{'role':'user','content':['Tell me a joke.']}],'max_tokens':800,'stream':false}",
  },
  {
    "escaping", "Answer in \"plain\" words.", 0, FALSE,
    {
      { "user", "Say \"yes\" or 'no', a\\b\n日本 🚲 “é”", "" },
      { "assistant", "</script> & \t", "" },
    },
    "{'messages':[{'role':'system','content':'Answer in \\'plain\\' words.'},"
    "{'role':'user','content':[{'type':'text','text':"
    "'Say \\'yes\\' or \\u0027no\\u0027, a\\\\b\\n日本 🚲 “é”'}]},"
    "{'role':'assistant','content':'</script> & \\t'}],'max_tokens':800,'stream':false}",
    "{'messages':[{'role':'system','content':'Answer in \\'plain\\' words.'},"
    "{'role':'user','content':['Say \\'yes\\' or \\u0027no\\u0027, "
    "a\\\\b\\n日本 🚲 “é”']},"
    "{'role':'assistant','content':'</script> & \\t'}],'max_tokens':800,'stream':false}",
  },
};

/* The same rows go to every api-version; only 2023-08-01-preview takes
 * the legacy body.
 */
typedef struct
{
  const char *label;
  const char *api_version;
  const char *body_version;
  gboolean    legacy;
} VersionCase;

static const VersionCase version_cases[] = {
  { "default", NULL, "2024-10-21", FALSE },
  { "2024-10-21", "2024-10-21", "2024-10-21", FALSE },
  { "2024-06-01", "2024-06-01", "2024-06-01", FALSE },
  { "2024-02-15-preview", "2024-02-15-preview", "2024-02-15-preview", FALSE },
  { "2023-08-01-preview", "2023-08-01-preview", "2023-08-01-preview", TRUE },
};

typedef struct
{
  const RequestCase *request;
  const VersionCase *version;
} TestData;

static GBytes *
make_jpeg (guint index)
{
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *buffer = NULL;
  gsize size = 0;
  int width = 48 + 16 * index;
  int height = 32 + 8 * index;
  guint32 colours[] = { 0xc0392bff, 0x2980b9ff, 0x27ae60ff, 0xf1c40fff, 0x8e44adff };

  pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  gdk_pixbuf_fill (pixbuf, colours[index % G_N_ELEMENTS (colours)]);

  /* A lighter band, so that the picture is not a flat colour. */
  {
    g_autoptr(GdkPixbuf) band = gdk_pixbuf_new_subpixbuf (pixbuf, 0, 0, width, height / 3);
    gdk_pixbuf_fill (band, 0xeeeeeeff);
  }

  gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &size, "jpeg", &error, "quality", "90", NULL);
  g_assert_no_error (error);

  return g_bytes_new_take (g_steal_pointer (&buffer), size);
}

static GazeDetail
detail_from_letter (char letter)
{
  switch (letter)
    {
    case 'l':
      return GAZE_DETAIL_LOW;
    case 'h':
      return GAZE_DETAIL_HIGH;
    case 'a':
      return GAZE_DETAIL_AUTO;
    default:
      g_assert_not_reached ();
    }
}

static GazeImage *
make_image (const char *photo_name,
            guint       index,
            char        letter)
{
  g_autoptr(GBytes) jpeg = make_jpeg (index);
  g_autoptr(GError) error = NULL;
  g_autofree char *name = g_strdup_printf ("%s-%u.jpg", photo_name ? photo_name : "photo", index);
  GazeImage *image;

  image = gaze_image_prepare_bytes (jpeg, name, detail_from_letter (letter), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (GAZE_IS_IMAGE (image));
  g_assert_cmpint (gaze_image_get_detail (image), ==, detail_from_letter (letter));

  return image;
}

static JsonNode *
parse_json (const char *data,
            gssize      length)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, data, length, &error);
  g_assert_no_error (error);

  return json_node_ref (json_parser_get_root (parser));
}

static char *
to_json (JsonNode *node)
{
  return json_to_string (node, TRUE);
}

/* The request as the row describes it, and every image it attaches, in order. */
static GazeRequest *
build_request (const RequestCase *c,
               const VersionCase *v,
               GPtrArray         *all_images)
{
  GazeRequest *request = gaze_request_new (v->api_version);
  guint n_made = 0;

  if (c->system_prompt != NULL)
    gaze_request_set_system_prompt (request, c->system_prompt);
  if (c->max_tokens > 0)
    gaze_request_set_max_tokens (request, c->max_tokens);
  gaze_request_set_stream (request, c->stream);

  for (guint i = 0; i < MAX_TURNS && c->turns[i].role != NULL; i++)
    {
      const Turn *turn = &c->turns[i];

      if (g_str_equal (turn->role, "assistant"))
        {
          g_assert_cmpstr (turn->images, ==, "");
          gaze_request_add_assistant_message (request, turn->text);
        }
      else
        {
          g_autoptr(GPtrArray) images = g_ptr_array_new_with_free_func (g_object_unref);
          guint n_left_out = 0;

          for (const char *letter = turn->images; *letter; letter++)
            {
              GazeImage *image;

              if (*letter == 'x')
                {
                  g_assert_cmpuint (n_left_out, ==, images->len);
                  g_ptr_array_add (images, make_image (c->photo_name, n_made++, 'l'));
                  n_left_out++;
                  continue;
                }

              image = make_image (c->photo_name, n_made++, *letter);
              g_ptr_array_add (images, image);
              g_ptr_array_add (all_images, g_object_ref (image));
            }

          /* The request keeps its own references. */
          gaze_request_add_user_message_full (request, turn->text, images->len > 0 ? images : NULL,
                                              n_left_out);
        }
    }

  return request;
}

static JsonNode *
expected_body (const char *expected,
               GPtrArray  *images)
{
  g_autoptr(GString) text = g_string_new (expected);

  g_string_replace (text, "'", "\"", 0);

  for (guint i = 0; i < images->len; i++)
    {
      g_autofree char *placeholder = g_strdup_printf ("@IMAGE%u@", i);

      g_assert_nonnull (strstr (text->str, placeholder));
      g_string_replace (text, placeholder,
                        gaze_image_get_base64 (g_ptr_array_index (images, i)), 0);
    }

  g_assert_null (strstr (text->str, "@IMAGE"));

  return parse_json (text->str, text->len);
}

static void
assert_image_data (const char *base64,
                   GazeImage  *image)
{
  g_autoptr(GdkPixbufLoader) loader = gdk_pixbuf_loader_new_with_type ("jpeg", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree guchar *decoded = NULL;
  GBytes *jpeg = gaze_image_get_jpeg (image);
  GdkPixbuf *pixbuf;
  gsize size = 0;

  g_assert_true (g_str_is_ascii (base64));
  g_assert_cmpuint (strlen (base64) % 4, ==, 0);
  g_assert_cmpuint (strspn (base64, BASE64_ALPHABET), ==, strlen (base64));

  decoded = g_base64_decode (base64, &size);
  g_assert_cmpmem (decoded, size, g_bytes_get_data (jpeg, NULL), g_bytes_get_size (jpeg));

  /* It is a JPEG of the size the image says. */
  g_assert_cmpuint (size, >, 3);
  g_assert_cmphex (decoded[0], ==, 0xff);
  g_assert_cmphex (decoded[1], ==, 0xd8);
  g_assert_cmphex (decoded[2], ==, 0xff);

  gdk_pixbuf_loader_write (loader, decoded, size, &error);
  g_assert_no_error (error);
  gdk_pixbuf_loader_close (loader, &error);
  g_assert_no_error (error);
  pixbuf = gdk_pixbuf_loader_get_pixbuf (loader);
  g_assert_nonnull (pixbuf);
  g_assert_cmpint (gdk_pixbuf_get_width (pixbuf), ==, gaze_image_get_width (image));
  g_assert_cmpint (gdk_pixbuf_get_height (pixbuf), ==, gaze_image_get_height (image));
}

/* Finds the images in the body as sent, whatever the expected text says,
 * so that the base64 is checked against the JPEG itself.
 */
static void
assert_body_images (JsonNode  *body,
                    gboolean   legacy,
                    GPtrArray *images)
{
  JsonArray *messages = json_object_get_array_member (json_node_get_object (body), "messages");
  guint found = 0;

  for (guint i = 0; i < json_array_get_length (messages); i++)
    {
      JsonObject *message = json_array_get_object_element (messages, i);
      JsonNode *content = json_object_get_member (message, "content");
      JsonArray *parts;

      if (!JSON_NODE_HOLDS_ARRAY (content))
        continue;

      parts = json_node_get_array (content);
      for (guint j = 0; j < json_array_get_length (parts); j++)
        {
          JsonNode *part = json_array_get_element (parts, j);
          JsonObject *object;
          const char *data;

          if (!JSON_NODE_HOLDS_OBJECT (part))
            continue;

          object = json_node_get_object (part);
          if (legacy)
            {
              data = json_object_get_string_member (object, "image");
            }
          else
            {
              JsonObject *image_url;
              const char *url;

              if (g_strcmp0 (json_object_get_string_member (object, "type"), "image_url") != 0)
                continue;

              image_url = json_object_get_object_member (object, "image_url");
              url = json_object_get_string_member (image_url, "url");
              g_assert_true (g_str_has_prefix (url, "data:image/jpeg;base64,"));
              data = url + strlen ("data:image/jpeg;base64,");
            }

          g_assert_cmpuint (found, <, images->len);
          assert_image_data (data, g_ptr_array_index (images, found));
          found++;
        }
    }

  g_assert_cmpuint (found, ==, images->len);
}

static void
dump_body (const TestData *data,
           GBytes         *bytes)
{
  g_autofree char *dir = NULL;
  g_autofree char *basename = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;

  if (dump_dir == NULL)
    return;

  dir = g_build_filename (dump_dir, data->version->body_version, NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);

  basename = g_strdup_printf ("%s.%s.json", data->request->name, data->version->label);
  path = g_build_filename (dir, basename, NULL);
  g_file_set_contents (path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error);
  g_assert_no_error (error);
}

/* Builds @request's body both ways and fails, showing where they part,
 * unless they are the same bytes. The estimate must cover the body too.
 */
static void
assert_same_as_reference (GazeRequest *request,
                          const char  *label)
{
  g_autoptr(GBytes) bytes = gaze_request_to_bytes (request);
  g_autoptr(GBytes) reference = gaze_request_to_bytes_reference (request);
  gsize size = 0;
  gsize reference_size = 0;
  const char *got = g_bytes_get_data (bytes, &size);
  const char *want = g_bytes_get_data (reference, &reference_size);
  gsize at = 0;

  while (at < size && at < reference_size && got[at] == want[at])
    at++;

  if (at < size || at < reference_size)
    {
      gsize from = at > 40 ? at - 40 : 0;
      g_autofree char *got_slice = g_strndup (got + from, MIN (size - from, 80));
      g_autofree char *want_slice = g_strndup (want + from, MIN (reference_size - from, 80));
      g_autofree char *got_text = g_strescape (got_slice, NULL);
      g_autofree char *want_text = g_strescape (want_slice, NULL);

      g_error ("%s: the body (%" G_GSIZE_FORMAT " bytes) differs from json-glib's "
               "(%" G_GSIZE_FORMAT " bytes) at byte %" G_GSIZE_FORMAT ":\n"
               "  json-glib: %s\n  body:      %s",
               label, size, reference_size, at, want_text, got_text);
    }

  g_assert_cmpuint (gaze_request_estimate_size (request), >=, size);
}

static void
test_request_body (gconstpointer user_data)
{
  const TestData *data = user_data;
  const RequestCase *c = data->request;
  const VersionCase *v = data->version;
  g_autoptr(GPtrArray) images = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GazeRequest) request = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(JsonNode) expected = NULL;
  const char *text;
  gsize size = 0;

  request = build_request (c, v, images);
  g_assert_cmpstr (gaze_request_get_api_version (request), ==, v->body_version);
  g_assert_cmpint (gaze_api_version_is_legacy (v->body_version), ==, v->legacy);
  g_assert_cmpint (gaze_request_get_stream (request), ==, c->stream);

  bytes = gaze_request_to_bytes (request);
  g_assert_nonnull (bytes);
  dump_body (data, bytes);

  text = g_bytes_get_data (bytes, &size);
  g_assert_cmpuint (size, >, 0);
  g_assert_true (g_utf8_validate (text, size, NULL));

  body = parse_json (text, size);
  expected = expected_body (v->legacy ? c->expected_legacy : c->expected, images);

  /* A stream asks for its usage where the api-version takes it. */
  if (c->stream && g_strcmp0 (v->body_version, "2024-10-21") >= 0)
    {
      JsonObject *options = json_object_new ();

      json_object_set_boolean_member (options, "include_usage", TRUE);
      json_object_set_object_member (json_node_get_object (expected), "stream_options", options);
    }

  if (!json_node_equal (body, expected))
    {
      g_autofree char *want = to_json (expected);
      g_autofree char *got = to_json (body);

      g_error ("the %s body for api-version %s differs.\nExpected:\n%s\nGot:\n%s",
               c->name, v->label, want, got);
    }

  assert_body_images (body, v->legacy, images);

  /* Building twice gives the same body. */
  {
    g_autoptr(GBytes) again = gaze_request_to_bytes (request);

    g_assert_true (g_bytes_equal (again, bytes));
  }

  {
    g_autofree char *label = g_strdup_printf ("%s for %s", c->name, v->label);

    assert_same_as_reference (request, label);
  }
}

/* Text that json-glib escapes, or leaves as it is: quotes, backslashes,
 * every control character, DEL, non-ASCII, emoji, U+2028 and U+2029, and
 * things that only look like JSON or escapes.
 */
#define TRICKY_TEXT "Say \"yes\" or 'no', a\\b/c\\\\ \n\r\t\b\f" \
                    "\x01\x02\x03\x04\x05\x06\x07\x0b\x0e\x0f\x10\x11\x12\x13\x14\x15" \
                    "\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f" \
                    " 日本 🚲 “é” \u2028\u2029 </script> & %s \\u0041 {\"x\":[1]}"

/* Bytes that are not UTF-8: a cut sequence, a byte that never starts
 * one, and an encoded surrogate.
 */
#define INVALID_UTF8 "caf\xc3 (\xff) \xed\xa0\x80 \xe2\x82"

/* Requests of every shape, each built for every api-version below, with
 * and without streaming, and compared byte for byte with the body that
 * json-glib builds.
 */
static const RequestCase identity_cases[] = {
  { "empty", NULL, 0, FALSE, { { NULL } }, NULL, NULL, NULL },
  { "system-only", TRICKY_TEXT, 0, FALSE, { { NULL } }, NULL, NULL, NULL },
  {
    "system-trimmed", " \t\n Be brief. \r\n", 0, FALSE,
    { { "user", "Hello", "" } },
    NULL, NULL, NULL,
  },
  {
    "tricky-text", TRICKY_TEXT, 0, FALSE,
    {
      { "user", TRICKY_TEXT, "lha" },
      { "assistant", TRICKY_TEXT, "" },
      { "user", TRICKY_TEXT, "" },
    },
    NULL, NULL, NULL,
  },
  {
    "empty-texts", NULL, 0, FALSE,
    {
      { "user", "", "" },
      { "assistant", "", "" },
      { "user", "", "xx" },
      { "assistant", "", "" },
      { "user", "", "xa" },
    },
    NULL, NULL, NULL,
  },
  {
    "left-out", "You describe photos.", 0, FALSE,
    {
      { "user", "What are these?", "xxxh" },
      { "assistant", "Four boats.", "" },
      { "user", "And this one?", "l" },
    },
    NULL, NULL, "say \"cheese\"\\ \t 日本 🚲",
  },
  {
    "ten-photos", NULL, 0, FALSE,
    {
      { "user", "Compare these.", "lhal" },
      { "assistant", "The second is sharper.", "" },
      { "user", "And these?", "xxhh" },
      { "assistant", "Both are blurred.", "" },
      { "user", "Which is best?", "aal" },
      { "assistant", "The last.", "" },
    },
    NULL, NULL, NULL,
  },
  { "max-tokens-1", NULL, 1, FALSE, { { "user", "Hi", "l" } }, NULL, NULL, NULL },
  { "max-tokens-max", NULL, G_MAXUINT, FALSE, { { "user", "Hi", "h" } }, NULL, NULL, NULL },
  {
    "invalid-utf8", INVALID_UTF8, 0, FALSE,
    {
      { "user", INVALID_UTF8, "xl" },
      { "assistant", INVALID_UTF8, "" },
    },
    NULL, NULL, INVALID_UTF8,
  },
};

/* The api-versions of version_cases and more: a preview that takes
 * stream_options, versions before it, and values that are not dates.
 */
static const char *identity_versions[] = {
  NULL,
  "2025-04-01-preview",
  "2024-10-21",
  "2024-06-01",
  "2024-02-15-preview",
  "2023-12-01-preview",
  "2023-08-01-preview",
  "",
  "2024-10-2",
  "latest",
};

static void
test_request_same_as_reference (gconstpointer user_data)
{
  const RequestCase *c = user_data;

  for (guint v = 0; v < G_N_ELEMENTS (identity_versions); v++)
    {
      VersionCase version = { identity_versions[v], identity_versions[v], NULL, FALSE };
      g_autoptr(GPtrArray) images = g_ptr_array_new_with_free_func (g_object_unref);
      g_autoptr(GazeRequest) request = build_request (c, &version, images);

      for (guint stream = 0; stream < 2; stream++)
        {
          g_autofree char *label = NULL;

          label = g_strdup_printf ("%s for %s%s", c->name,
                                   version.api_version ? version.api_version : "(default)",
                                   stream ? ", streamed" : "");
          gaze_request_set_stream (request, stream);
          assert_same_as_reference (request, label);
        }
    }
}

typedef struct
{
  const char *text;
  const char *json;
} EscapeCase;

/* How text is written in a JSON string, as json-glib writes it. */
static const EscapeCase escape_cases[] = {
  { "\"", "\\\"" },
  { "\\", "\\\\" },
  { "/", "/" },
  { "\b\f\n\r\t", "\\b\\f\\n\\r\\t" },
  { "\x01\x0b\x1e", "\\u0001\\u000b\\u001e" },
  { "\x7f", "\\u007f" },
  { "\\u0041", "\\\\u0041" },
  /* Non-ASCII is written as it is, U+2028 and U+2029 too, which RFC 8259
   * allows. */
  { "é 日本 🚲 “”", "é 日本 🚲 “”" },
  { "\u2028\u2029", "\u2028\u2029" },
  /* json-glib 1.6 leaves U+001F as it is, which JSON does not allow, and
   * copies bytes that are not UTF-8 as they are: a lone surrogate escape
   * in a reply becomes such bytes, and would go back with the next
   * question. Gaze escapes the one and replaces the others with U+FFFD as
   * the text enters the request. */
  { "\x1f", "\\u001f" },
  { INVALID_UTF8, "caf\uFFFD (\uFFFD) \uFFFD\uFFFD\uFFFD \uFFFD\uFFFD" },
};

static void
test_request_escapes (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (escape_cases); i++)
    {
      const EscapeCase *e = &escape_cases[i];

      for (guint legacy = 0; legacy < 2; legacy++)
        {
          g_autoptr(GazeRequest) request = NULL;
          g_autoptr(GBytes) bytes = NULL;
          g_autofree char *text = g_strdup_printf ("<%s>", e->text);
          g_autofree char *label = g_strescape (text, NULL);
          g_autofree char *expected = NULL;
          gsize size = 0;
          const char *body;

          request = gaze_request_new (legacy ? "2023-08-01-preview" : "2024-10-21");
          gaze_request_add_user_message (request, text, NULL);
          gaze_request_add_assistant_message (request, text);

          bytes = gaze_request_to_bytes (request);
          body = g_bytes_get_data (bytes, &size);
          g_assert_cmpuint (strlen (body), ==, size);
          g_assert_true (g_utf8_validate (body, (gssize) size, NULL));

          if (legacy)
            expected = g_strdup_printf ("{\"messages\":[{\"role\":\"user\",\"content\":[\"<%s>\"]},"
                                        "{\"role\":\"assistant\",\"content\":\"<%s>\"}],"
                                        "\"max_tokens\":%u,\"stream\":false}",
                                        e->json, e->json, GAZE_DEFAULT_MAX_TOKENS);
          else
            expected = g_strdup_printf ("{\"messages\":[{\"role\":\"user\",\"content\":"
                                        "[{\"type\":\"text\",\"text\":\"<%s>\"}]},"
                                        "{\"role\":\"assistant\",\"content\":\"<%s>\"}],"
                                        "\"max_tokens\":%u,\"stream\":false}",
                                        e->json, e->json, GAZE_DEFAULT_MAX_TOKENS);

          if (!g_str_equal (body, expected))
            {
              g_autofree char *got = g_strescape (body, NULL);
              g_autofree char *want = g_strescape (expected, NULL);

              g_error ("the text %s is written wrongly.\nExpected:\n%s\nGot:\n%s",
                       label, want, got);
            }

          assert_same_as_reference (request, label);
        }
    }
}

typedef struct
{
  const char *api_version;
  gboolean    legacy;
} LegacyCase;

static const LegacyCase legacy_cases[] = {
  { "2023-08-01-preview", TRUE },
  { "2023-12-01-preview", FALSE },
  { "2024-02-15-preview", FALSE },
  { "2024-06-01", FALSE },
  { "2024-10-21", FALSE },
  { "2025-04-01-preview", FALSE },
  { "", FALSE },
  { NULL, FALSE },
  { "2023-08-01-PREVIEW", FALSE },
};

static void
test_api_version_is_legacy (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (legacy_cases); i++)
    {
      const LegacyCase *c = &legacy_cases[i];

      if (gaze_api_version_is_legacy (c->api_version) != c->legacy)
        g_error ("gaze_api_version_is_legacy (“%s”) should be %s",
                 c->api_version ? c->api_version : "(null)", c->legacy ? "TRUE" : "FALSE");
    }
}

static void
test_request_defaults (void)
{
  g_autoptr(GazeRequest) request = gaze_request_new (NULL);

  g_assert_cmpstr (gaze_request_get_api_version (request), ==, GAZE_DEFAULT_API_VERSION);
  g_assert_false (gaze_request_get_stream (request));
  gaze_request_set_stream (request, 42);
  g_assert_true (gaze_request_get_stream (request));
  gaze_request_set_stream (request, FALSE);
  g_assert_false (gaze_request_get_stream (request));
}

/* Setting a prompt and then clearing it leaves no system message. */
static void
test_request_system_prompt_cleared (void)
{
  g_autoptr(GazeRequest) request = gaze_request_new ("2024-10-21");
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(JsonNode) body = NULL;
  JsonArray *messages;
  JsonObject *message;

  gaze_request_set_system_prompt (request, "Be brief.");
  gaze_request_set_system_prompt (request, NULL);
  gaze_request_add_user_message (request, "Hello", NULL);

  bytes = gaze_request_to_bytes (request);
  body = parse_json (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  messages = json_object_get_array_member (json_node_get_object (body), "messages");
  g_assert_cmpuint (json_array_get_length (messages), ==, 1);
  message = json_array_get_object_element (messages, 0);
  g_assert_cmpstr (json_object_get_string_member (message, "role"), ==, "user");
}

static void
test_request_max_tokens_zero (void)
{
  g_autoptr(GazeRequest) request = gaze_request_new (NULL);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(JsonNode) body = NULL;

  g_test_expect_message ("gaze-request", G_LOG_LEVEL_CRITICAL, "*max_tokens > 0*");
  gaze_request_set_max_tokens (request, 0);
  g_test_assert_expected_messages ();

  gaze_request_add_user_message (request, "Hello", NULL);
  bytes = gaze_request_to_bytes (request);
  body = parse_json (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (body), "max_tokens"),
                   ==, GAZE_DEFAULT_MAX_TOKENS);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GPtrArray) data = g_ptr_array_new_with_free_func (g_free);
  int j = 1;

  /* Take "--dump DIR" out before GTest sees the arguments. */
  dump_dir = g_getenv ("GAZE_DUMP_DIR");
  for (int i = 1; i < argc; i++)
    {
      if (g_str_equal (argv[i], "--dump") && i + 1 < argc)
        dump_dir = argv[++i];
      else
        argv[j++] = argv[i];
    }
  argv[j] = NULL;
  argc = j;

  if (dump_dir != NULL && dump_dir[0] == '\0')
    dump_dir = NULL;

  g_test_init (&argc, &argv, NULL);

  for (guint v = 0; v < G_N_ELEMENTS (version_cases); v++)
    {
      for (guint r = 0; r < G_N_ELEMENTS (request_cases); r++)
        {
          TestData *test_data = g_new0 (TestData, 1);
          g_autofree char *path = NULL;

          test_data->request = &request_cases[r];
          test_data->version = &version_cases[v];
          g_ptr_array_add (data, test_data);

          path = g_strdup_printf ("/request/body/%s/%s",
                                  version_cases[v].label, request_cases[r].name);
          g_test_add_data_func (path, test_data, test_request_body);
        }
    }

  for (guint r = 0; r < G_N_ELEMENTS (identity_cases); r++)
    {
      g_autofree char *path = g_strdup_printf ("/request/same-as-reference/%s",
                                               identity_cases[r].name);

      g_test_add_data_func (path, &identity_cases[r], test_request_same_as_reference);
    }

  g_test_add_func ("/request/escapes", test_request_escapes);
  g_test_add_func ("/request/api-version-is-legacy", test_api_version_is_legacy);
  g_test_add_func ("/request/defaults", test_request_defaults);
  g_test_add_func ("/request/system-prompt-cleared", test_request_system_prompt_cleared);
  g_test_add_func ("/request/max-tokens-zero", test_request_max_tokens_zero);

  return g_test_run ();
}
