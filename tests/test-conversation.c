/* test-conversation.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The conversation and the requests it builds: every earlier turn goes
 * again, and so do its photos, but never more than the service's ten per
 * request.
 */

#include "config.h"

#include <string.h>
#include <json-glib/json-glib.h>

#include "gaze-conversation.h"

#define LEGACY_API_VERSION "2023-08-01-preview"

typedef struct
{
  GazeConversation *conversation;
  /* Every photo made, in order; photo-N.jpg is images[N]. */
  GPtrArray        *images;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  fixture->conversation = gaze_conversation_new ();
  fixture->images = g_ptr_array_new_with_free_func (g_object_unref);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_assert_finalize_object (fixture->conversation);
  g_clear_pointer (&fixture->images, g_ptr_array_unref);
}

/* A small photo of its own size and colour, so that no two are alike. */
static GazeImage *
make_image (Fixture *fixture)
{
  guint index = fixture->images->len;
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 40 + index, 30);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *name = g_strdup_printf ("photo-%u.jpg", index);
  char *buffer = NULL;
  gsize length = 0;
  GazeImage *image;

  gdk_pixbuf_fill (pixbuf, 0x10203000u + (index << 24) + 0xff);
  gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &length, "png", &error, NULL);
  g_assert_no_error (error);
  bytes = g_bytes_new_take (buffer, length);

  image = gaze_image_prepare_bytes (bytes, name, GAZE_DETAIL_LOW, NULL, &error);
  g_assert_no_error (error);
  g_ptr_array_add (fixture->images, image);

  return image;
}

static GPtrArray *
make_images (Fixture *fixture,
             guint    count)
{
  GPtrArray *images = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < count; i++)
    g_ptr_array_add (images, g_object_ref (make_image (fixture)));

  return images;
}

static void
add_turn (Fixture    *fixture,
          const char *question,
          guint       n_images,
          const char *answer)
{
  g_autoptr(GPtrArray) images = make_images (fixture, n_images);

  gaze_conversation_add_turn (fixture->conversation, question, images, answer);
}

static char *
dup_left_out_text (const char *name)
{
  return g_strdup_printf ("[The photo \"%s\" was shown earlier in this conversation "
                          "and is no longer attached.]", name);
}

static JsonNode *
parse_body (GazeRequest *request)
{
  g_autoptr(GBytes) bytes = gaze_request_to_bytes (request);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  gsize size = 0;
  const char *data = g_bytes_get_data (bytes, &size);

  json_parser_load_from_data (parser, data, size, &error);
  g_assert_no_error (error);

  /* The size shown before sending is never below the body. */
  g_assert_cmpuint (gaze_request_estimate_size (request), >=, size);

  return json_node_ref (json_parser_get_root (parser));
}

/* The name of the photo whose base64 is @data, or NULL. */
static const char *
find_image (Fixture    *fixture,
            const char *data)
{
  for (guint i = 0; i < fixture->images->len; i++)
    {
      GazeImage *image = g_ptr_array_index (fixture->images, i);

      if (g_str_equal (gaze_image_get_base64 (image), data))
        return gaze_image_get_name (image);
    }

  return NULL;
}

/* A text part: a photo left out becomes [photo-N.jpg], other text is
 * quoted.
 */
static void
describe_text (Fixture    *fixture,
               GString    *out,
               const char *text)
{
  for (guint i = 0; i < fixture->images->len; i++)
    {
      const char *name = gaze_image_get_name (g_ptr_array_index (fixture->images, i));
      g_autofree char *left_out = dup_left_out_text (name);

      if (g_str_equal (text, left_out))
        {
          g_string_append_printf (out, " [%s]", name);
          return;
        }
    }

  g_assert_null (strstr (text, "no longer attached"));
  g_string_append_printf (out, " \"%s\"", text);
}

/* The body in a line per message: the role, then each part in order, an
 * attached photo as <photo-N.jpg> and one left out as [photo-N.jpg].
 */
static char *
describe_body (Fixture  *fixture,
               JsonNode *body,
               guint    *n_attached)
{
  GString *out = g_string_new (NULL);
  JsonArray *messages = json_object_get_array_member (json_node_get_object (body), "messages");

  *n_attached = 0;

  for (guint i = 0; i < json_array_get_length (messages); i++)
    {
      JsonObject *message = json_array_get_object_element (messages, i);
      JsonNode *content = json_object_get_member (message, "content");
      JsonArray *parts;

      g_string_append (out, json_object_get_string_member (message, "role"));
      g_string_append_c (out, ':');

      if (JSON_NODE_HOLDS_VALUE (content))
        {
          describe_text (fixture, out, json_node_get_string (content));
          g_string_append_c (out, '\n');
          continue;
        }

      parts = json_node_get_array (content);
      g_assert_cmpuint (json_array_get_length (parts), >, 0);

      for (guint j = 0; j < json_array_get_length (parts); j++)
        {
          JsonNode *node = json_array_get_element (parts, j);
          JsonObject *part;
          const char *type;
          const char *data = NULL;
          const char *name;

          /* The legacy body: a string is text, {"image": base64} a photo. */
          if (JSON_NODE_HOLDS_VALUE (node))
            {
              describe_text (fixture, out, json_node_get_string (node));
              continue;
            }

          part = json_node_get_object (node);
          type = json_object_has_member (part, "type")
                   ? json_object_get_string_member (part, "type")
                   : NULL;

          if (g_strcmp0 (type, "text") == 0)
            {
              describe_text (fixture, out, json_object_get_string_member (part, "text"));
              continue;
            }

          if (g_strcmp0 (type, "image_url") == 0)
            {
              JsonObject *image_url = json_object_get_object_member (part, "image_url");
              const char *url = json_object_get_string_member (image_url, "url");

              g_assert_true (g_str_has_prefix (url, "data:image/jpeg;base64,"));
              data = url + strlen ("data:image/jpeg;base64,");
            }
          else
            {
              g_assert_null (type);
              data = json_object_get_string_member (part, "image");
            }

          name = find_image (fixture, data);
          g_assert_nonnull (name);
          g_string_append_printf (out, " <%s>", name);
          (*n_attached)++;
        }

      g_string_append_c (out, '\n');
    }

  return g_string_free (out, FALSE);
}

/* Builds the next request and checks it against @expected, which
 * describe_body() wrote.
 */
static GazeRequest *
assert_request (Fixture    *fixture,
                const char *api_version,
                const char *question,
                GPtrArray  *images,
                const char *expected)
{
  GazeRequest *request;
  g_autoptr(JsonNode) body = NULL;
  g_autofree char *described = NULL;
  guint n_attached;
  guint n_left_out;

  n_left_out = gaze_conversation_count_images_left_out (fixture->conversation,
                                                        images != NULL ? images->len : 0);
  request = gaze_conversation_build_request (fixture->conversation, api_version, question, images);
  body = parse_body (request);
  described = describe_body (fixture, body, &n_attached);

  g_assert_cmpstr (described, ==, expected);
  g_assert_cmpuint (gaze_request_get_n_images (request), ==, n_attached);

  /* What is left out is what the window says is left out. */
  {
    guint n_placeholders = 0;

    for (const char *p = described; (p = strstr (p, " [photo-")); p++)
      n_placeholders++;
    g_assert_cmpuint (n_placeholders, ==, n_left_out);
  }

  return request;
}

/* Up to ten photos in all, every photo goes again. */
static void
test_conversation_within_limit (Fixture       *fixture,
                                gconstpointer  data)
{
  g_autoptr(GazeRequest) request = NULL;
  g_autoptr(GPtrArray) images = NULL;
  g_autoptr(GError) error = NULL;

  add_turn (fixture, "What are these?", 3, "Three squares.");
  add_turn (fixture, "And these?", 4, "Four more.");
  images = make_images (fixture, 3);

  g_assert_cmpuint (gaze_conversation_count_images_left_out (fixture->conversation, 3), ==, 0);
  request = assert_request (fixture, NULL, "Which is largest?", images,
                            "user: \"What are these?\" <photo-0.jpg> <photo-1.jpg> <photo-2.jpg>\n"
                            "assistant: \"Three squares.\"\n"
                            "user: \"And these?\" <photo-3.jpg> <photo-4.jpg> "
                            "<photo-5.jpg> <photo-6.jpg>\n"
                            "assistant: \"Four more.\"\n"
                            "user: \"Which is largest?\" <photo-7.jpg> <photo-8.jpg> "
                            "<photo-9.jpg>\n");
  g_assert_true (gaze_request_check (request, &error));
  g_assert_no_error (error);
}

/* The report: two turns of six photos. The second request carried twelve
 * and Azure refused it. Now the new question's six go, with the newest
 * four of the first turn, and the two oldest are named in their place.
 */
static void
test_conversation_two_turns_of_six (Fixture       *fixture,
                                    gconstpointer  data)
{
  g_autoptr(GazeRequest) request = NULL;
  g_autoptr(GPtrArray) images = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = NULL;
  g_autofree char *left_out = NULL;
  JsonArray *messages;
  JsonArray *parts;
  JsonObject *part;

  add_turn (fixture, "What is on these six shelves?", 6, "Books, mostly.");
  images = make_images (fixture, 6);

  g_assert_cmpuint (gaze_conversation_count_images_left_out (fixture->conversation, 6), ==, 2);
  request = assert_request (fixture, NULL, "And on these?", images,
                            "user: \"What is on these six shelves?\" [photo-0.jpg] [photo-1.jpg] "
                            "<photo-2.jpg> <photo-3.jpg> <photo-4.jpg> <photo-5.jpg>\n"
                            "assistant: \"Books, mostly.\"\n"
                            "user: \"And on these?\" <photo-6.jpg> <photo-7.jpg> <photo-8.jpg> "
                            "<photo-9.jpg> <photo-10.jpg> <photo-11.jpg>\n");
  g_assert_cmpuint (gaze_request_get_n_images (request), ==, GAZE_MAX_IMAGES_PER_REQUEST);
  g_assert_true (gaze_request_check (request, &error));
  g_assert_no_error (error);

  /* The text part, word for word: the question first and unchanged, then
   * a sentence for the model in place of the photo.
   */
  body = parse_body (request);
  messages = json_object_get_array_member (json_node_get_object (body), "messages");
  parts = json_object_get_array_member (json_array_get_object_element (messages, 0), "content");
  g_assert_cmpuint (json_array_get_length (parts), ==, 7);
  part = json_array_get_object_element (parts, 0);
  g_assert_cmpstr (json_object_get_string_member (part, "type"), ==, "text");
  g_assert_cmpstr (json_object_get_string_member (part, "text"),
                   ==,
                   "What is on these six shelves?");
  part = json_array_get_object_element (parts, 1);
  g_assert_cmpuint (json_object_get_size (part), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (part, "type"), ==, "text");
  g_assert_cmpstr (json_object_get_string_member (part, "text"), ==,
                   "[The photo \"photo-0.jpg\" was shown earlier in this conversation "
                   "and is no longer attached.]");

  /* It is said to the model, so it stays English whatever the locale. */
  left_out = dup_left_out_text ("photo-1.jpg");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (parts, 2), "text"),
                   ==, left_out);

  /* The conversation itself keeps every photo. */
  g_assert_cmpuint (gaze_conversation_get_images (fixture->conversation, 0)->len, ==, 6);
}

/* The oldest go first, turn by turn and in each turn from its first photo;
 * a question whose photos are all left out keeps its words, or has none.
 */
static void
test_conversation_oldest_first (Fixture       *fixture,
                                gconstpointer  data)
{
  g_autoptr(GazeRequest) no_photos = NULL;
  g_autoptr(GazeRequest) three = NULL;
  g_autoptr(GazeRequest) ten = NULL;
  g_autoptr(GPtrArray) three_images = NULL;
  g_autoptr(GPtrArray) ten_images = NULL;
  g_autoptr(GError) error = NULL;

  add_turn (fixture, "", 4, "Four photos of a cat.");
  add_turn (fixture, "These?", 4, "Four of a dog.");
  add_turn (fixture, "And these?", 4, "Four of a bird.");

  /* No photos with the question: the newest ten of twelve go. */
  g_assert_cmpuint (gaze_conversation_count_images_left_out (fixture->conversation, 0), ==, 2);
  no_photos = assert_request (fixture, NULL, "Which is the oldest animal?", NULL,
                              "user: [photo-0.jpg] [photo-1.jpg] <photo-2.jpg> <photo-3.jpg>\n"
                              "assistant: \"Four photos of a cat.\"\n"
                              "user: \"These?\" <photo-4.jpg> <photo-5.jpg> "
                              "<photo-6.jpg> <photo-7.jpg>\n"
                              "assistant: \"Four of a dog.\"\n"
                              "user: \"And these?\" <photo-8.jpg> <photo-9.jpg> "
                              "<photo-10.jpg> <photo-11.jpg>\n"
                              "assistant: \"Four of a bird.\"\n"
                              "user: \"Which is the oldest animal?\"\n");
  g_assert_true (gaze_request_check (no_photos, &error));

  /* Three new ones: the first turn is left out whole, and the first photo
   * of the second.
   */
  three_images = make_images (fixture, 3);
  g_assert_cmpuint (gaze_conversation_count_images_left_out (fixture->conversation, 3), ==, 5);
  three = assert_request (fixture, NULL, "And these three?", three_images,
                          "user: [photo-0.jpg] [photo-1.jpg] [photo-2.jpg] [photo-3.jpg]\n"
                          "assistant: \"Four photos of a cat.\"\n"
                          "user: \"These?\" [photo-4.jpg] <photo-5.jpg> "
                          "<photo-6.jpg> <photo-7.jpg>\n"
                          "assistant: \"Four of a dog.\"\n"
                          "user: \"And these?\" <photo-8.jpg> <photo-9.jpg> "
                          "<photo-10.jpg> <photo-11.jpg>\n"
                          "assistant: \"Four of a bird.\"\n"
                          "user: \"And these three?\" <photo-12.jpg> <photo-13.jpg> "
                          "<photo-14.jpg>\n");
  g_assert_true (gaze_request_check (three, &error));

  /* Ten new ones: no earlier photo fits. */
  ten_images = make_images (fixture, 10);
  g_assert_cmpuint (gaze_conversation_count_images_left_out (fixture->conversation, 10), ==, 12);
  ten = assert_request (fixture, NULL, "", ten_images,
                        "user: [photo-0.jpg] [photo-1.jpg] [photo-2.jpg] [photo-3.jpg]\n"
                        "assistant: \"Four photos of a cat.\"\n"
                        "user: \"These?\" [photo-4.jpg] [photo-5.jpg] [photo-6.jpg] [photo-7.jpg]\n"
                        "assistant: \"Four of a dog.\"\n"
                        "user: \"And these?\" [photo-8.jpg] [photo-9.jpg] "
                        "[photo-10.jpg] [photo-11.jpg]\n"
                        "assistant: \"Four of a bird.\"\n"
                        "user: <photo-15.jpg> <photo-16.jpg> <photo-17.jpg> <photo-18.jpg> "
                        "<photo-19.jpg> <photo-20.jpg> <photo-21.jpg> <photo-22.jpg> "
                        "<photo-23.jpg> <photo-24.jpg>\n");
  g_assert_true (gaze_request_check (ten, &error));
  g_assert_no_error (error);
}

/* Too many photos with the question itself are all attached, and refused
 * by the check rather than dropped without a word.
 */
static void
test_conversation_too_many_new (Fixture       *fixture,
                                gconstpointer  data)
{
  g_autoptr(GazeRequest) request = NULL;
  g_autoptr(GPtrArray) images = NULL;
  g_autoptr(GError) error = NULL;

  add_turn (fixture, "Two?", 2, "Two.");
  images = make_images (fixture, GAZE_MAX_IMAGES_PER_REQUEST + 1);

  g_assert_cmpuint (gaze_conversation_count_images_left_out (fixture->conversation, images->len),
                    ==,
                    2);
  request = gaze_conversation_build_request (fixture->conversation, NULL, "Eleven?", images);
  g_assert_cmpuint (gaze_request_get_n_images (request), ==, GAZE_MAX_IMAGES_PER_REQUEST + 1);
  g_assert_false (gaze_request_check (request, &error));
  g_assert_error (error, GAZE_IMAGE_ERROR, GAZE_IMAGE_ERROR_TOO_MANY);
}

/* The original preview's body: the sentence is a string of the array. */
static void
test_conversation_legacy (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(GazeRequest) request = NULL;
  g_autoptr(GPtrArray) images = NULL;

  add_turn (fixture, "Eight?", 8, "Eight.");
  images = make_images (fixture, 3);

  request = assert_request (fixture, LEGACY_API_VERSION, "Three?", images,
                            "user: \"Eight?\" [photo-0.jpg] <photo-1.jpg> "
                            "<photo-2.jpg> <photo-3.jpg> "
                            "<photo-4.jpg> <photo-5.jpg> <photo-6.jpg> <photo-7.jpg>\n"
                            "assistant: \"Eight.\"\n"
                            "user: \"Three?\" <photo-8.jpg> <photo-9.jpg> <photo-10.jpg>\n");
}

/* Whatever the turns and the new question hold, the request carries at
 * most ten photos, the new question's all, and the newest of the rest.
 */
static void
test_conversation_count (Fixture       *fixture,
                         gconstpointer  data)
{
  static const guint turns[] = { 0, 1, 5, 0, 7, 10, 3 };
  g_autoptr(GPtrArray) pool = make_images (fixture, GAZE_MAX_IMAGES_PER_REQUEST);
  guint n_earlier = 0;

  for (guint t = 0; t < G_N_ELEMENTS (turns); t++)
    {
      add_turn (fixture, "Question", turns[t], "Answer");
      n_earlier += turns[t];

      for (guint n_new = 0; n_new <= GAZE_MAX_IMAGES_PER_REQUEST; n_new++)
        {
          g_autoptr(GPtrArray) images = g_ptr_array_new ();
          g_autoptr(GazeRequest) request = NULL;
          guint n_left_out;

          for (guint i = 0; i < n_new; i++)
            g_ptr_array_add (images, g_ptr_array_index (pool, i));

          n_left_out = gaze_conversation_count_images_left_out (fixture->conversation, n_new);
          request = gaze_conversation_build_request (fixture->conversation, NULL, "Next", images);

          g_assert_cmpuint (n_left_out, ==, n_earlier + n_new > GAZE_MAX_IMAGES_PER_REQUEST
                                             ? n_earlier + n_new - GAZE_MAX_IMAGES_PER_REQUEST
                                             : 0);
          g_assert_cmpuint (gaze_request_get_n_images (request),
                            ==,
                            n_earlier + n_new - n_left_out);
          g_assert_cmpuint (gaze_request_get_n_images (request), <=, GAZE_MAX_IMAGES_PER_REQUEST);
          g_assert_true (gaze_request_check (request, NULL));
        }
    }

  /* A new conversation sends every photo again. */
  gaze_conversation_clear (fixture->conversation);
  g_assert_cmpuint (gaze_conversation_count_images_left_out (fixture->conversation, 10), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("/conversation/within-limit", test_conversation_within_limit);
  ADD ("/conversation/two-turns-of-six", test_conversation_two_turns_of_six);
  ADD ("/conversation/oldest-first", test_conversation_oldest_first);
  ADD ("/conversation/too-many-new", test_conversation_too_many_new);
  ADD ("/conversation/legacy", test_conversation_legacy);
  ADD ("/conversation/count", test_conversation_count);

#undef ADD

  return g_test_run ();
}
