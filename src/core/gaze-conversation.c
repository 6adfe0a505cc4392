/* gaze-conversation.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "gaze-conversation"

#include "config.h"

#include <glib/gi18n.h>

#include "gaze-conversation.h"

/* The service keeps no state: every request carries the whole
 * conversation, with the prepared images of earlier turns, which are kept
 * here so that they are not decoded again. It takes at most ten images per
 * request, though, earlier turns included: the newest ten go, and the
 * older ones are named in their place.
 */

typedef struct
{
  char      *question;
  GPtrArray *images;
  char      *answer;
} Turn;

struct _GazeConversation
{
  GObject    parent_instance;

  GPtrArray *turns;
};

G_DEFINE_FINAL_TYPE (GazeConversation, gaze_conversation, G_TYPE_OBJECT)

enum {
  CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
turn_free (gpointer data)
{
  Turn *turn = data;

  g_free (turn->question);
  g_clear_pointer (&turn->images, g_ptr_array_unref);
  g_free (turn->answer);
  g_free (turn);
}

static void
gaze_conversation_finalize (GObject *object)
{
  GazeConversation *self = (GazeConversation *)object;

  g_assert (GAZE_IS_CONVERSATION (self));

  g_clear_pointer (&self->turns, g_ptr_array_unref);

  G_OBJECT_CLASS (gaze_conversation_parent_class)->finalize (object);
}

static void
gaze_conversation_class_init (GazeConversationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = gaze_conversation_finalize;

  /**
   * GazeConversation::changed:
   *
   * Emitted when a turn was added or the conversation was cleared.
   */
  signals[CHANGED] = g_signal_new ("changed",
                                   G_TYPE_FROM_CLASS (klass),
                                   G_SIGNAL_RUN_LAST,
                                   0, NULL, NULL, NULL,
                                   G_TYPE_NONE, 0);
}

static void
gaze_conversation_init (GazeConversation *self)
{
  self->turns = g_ptr_array_new_with_free_func (turn_free);
}

GazeConversation *
gaze_conversation_new (void)
{
  return g_object_new (GAZE_TYPE_CONVERSATION, NULL);
}

guint
gaze_conversation_get_n_turns (GazeConversation *self)
{
  g_return_val_if_fail (GAZE_IS_CONVERSATION (self), 0);

  return self->turns->len;
}

static Turn *
get_turn (GazeConversation *self,
          guint             turn)
{
  g_assert (GAZE_IS_CONVERSATION (self));
  g_assert (turn < self->turns->len);

  return g_ptr_array_index (self->turns, turn);
}

const char *
gaze_conversation_get_question (GazeConversation *self,
                                guint             turn)
{
  g_return_val_if_fail (GAZE_IS_CONVERSATION (self), NULL);
  g_return_val_if_fail (turn < self->turns->len, NULL);

  return get_turn (self, turn)->question;
}

const char *
gaze_conversation_get_answer (GazeConversation *self,
                              guint             turn)
{
  g_return_val_if_fail (GAZE_IS_CONVERSATION (self), NULL);
  g_return_val_if_fail (turn < self->turns->len, NULL);

  return get_turn (self, turn)->answer;
}

/**
 * gaze_conversation_get_images:
 *
 * Returns: (transfer none) (element-type GazeImage): the images of @turn
 */
GPtrArray *
gaze_conversation_get_images (GazeConversation *self,
                              guint             turn)
{
  g_return_val_if_fail (GAZE_IS_CONVERSATION (self), NULL);
  g_return_val_if_fail (turn < self->turns->len, NULL);

  return get_turn (self, turn)->images;
}

static GPtrArray *
copy_images (GPtrArray *images)
{
  GPtrArray *copy = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; images != NULL && i < images->len; i++)
    g_ptr_array_add (copy, g_object_ref (g_ptr_array_index (images, i)));

  return copy;
}

/**
 * gaze_conversation_add_turn:
 * @self: a #GazeConversation
 * @question: what was asked
 * @images: (nullable) (element-type GazeImage): the images sent with it
 * @answer: what the model answered
 *
 * Adds a completed turn. Failed turns are never added, so that they are
 * not sent again.
 */
void
gaze_conversation_add_turn (GazeConversation *self,
                            const char       *question,
                            GPtrArray        *images,
                            const char       *answer)
{
  Turn *turn;

  g_return_if_fail (GAZE_IS_CONVERSATION (self));
  g_return_if_fail (question != NULL);
  g_return_if_fail (answer != NULL);

  turn = g_new0 (Turn, 1);
  turn->question = g_strdup (question);
  turn->images = copy_images (images);
  turn->answer = g_strdup (answer);
  g_ptr_array_add (self->turns, turn);

  g_signal_emit (self, signals[CHANGED], 0);
}

void
gaze_conversation_clear (GazeConversation *self)
{
  g_return_if_fail (GAZE_IS_CONVERSATION (self));

  if (self->turns->len == 0)
    return;

  g_ptr_array_set_size (self->turns, 0);
  g_signal_emit (self, signals[CHANGED], 0);
}

/**
 * gaze_conversation_count_images_left_out:
 * @self: a #GazeConversation
 * @n_new_images: how many images the next question carries
 *
 * Counts the images of earlier turns that the next question cannot carry
 * again: a request holds at most %GAZE_MAX_IMAGES_PER_REQUEST images, the
 * new question's first, then the newest of the earlier turns.
 *
 * Returns: how many of the oldest images gaze_conversation_build_request()
 *   leaves out
 */
guint
gaze_conversation_count_images_left_out (GazeConversation *self,
                                         guint             n_new_images)
{
  guint n_earlier = 0;
  guint room;

  g_return_val_if_fail (GAZE_IS_CONVERSATION (self), 0);

  for (guint i = 0; i < self->turns->len; i++)
    {
      Turn *turn = g_ptr_array_index (self->turns, i);

      n_earlier += turn->images->len;
    }

  room = GAZE_MAX_IMAGES_PER_REQUEST - MIN (n_new_images, GAZE_MAX_IMAGES_PER_REQUEST);

  return n_earlier > room ? n_earlier - room : 0;
}

/**
 * gaze_conversation_build_request:
 * @self: a #GazeConversation
 * @api_version: the api-version the request goes to
 * @question: the new question
 * @images: (nullable) (element-type GazeImage): the images sent with it
 *
 * Builds the request for the next question. Every earlier turn goes with
 * it, with as many of its images as still fit: the oldest images beyond
 * the service's limit, counted by gaze_conversation_count_images_left_out(),
 * are replaced by a short text that names them, and the questions are sent
 * as they were asked. The new question's images are all attached; if they
 * are too many, gaze_request_check() says so.
 *
 * Returns: (transfer full): a request that carries every earlier turn and
 *   then the new question
 */
GazeRequest *
gaze_conversation_build_request (GazeConversation *self,
                                 const char       *api_version,
                                 const char       *question,
                                 GPtrArray        *images)
{
  GazeRequest *request;
  guint n_left_out;

  g_return_val_if_fail (GAZE_IS_CONVERSATION (self), NULL);
  g_return_val_if_fail (question != NULL, NULL);

  request = gaze_request_new (api_version);
  n_left_out = gaze_conversation_count_images_left_out (self, images != NULL ? images->len : 0);

  if (n_left_out > 0)
    g_debug ("The %u oldest photos of the conversation no longer fit in the request", n_left_out);

  for (guint i = 0; i < self->turns->len; i++)
    {
      Turn *turn = g_ptr_array_index (self->turns, i);
      guint n_here = MIN (n_left_out, turn->images->len);

      gaze_request_add_user_message_full (request, turn->question, turn->images, n_here);
      gaze_request_add_assistant_message (request, turn->answer);
      n_left_out -= n_here;
    }

  gaze_request_add_user_message (request, question, images);

  return request;
}

/**
 * gaze_conversation_to_markdown:
 * @self: a #GazeConversation
 *
 * Writes the conversation as a Markdown document: each question under a
 * heading, with the names of its photos (the photos themselves are not
 * embedded), then the answer as the model wrote it.
 *
 * Returns: (transfer full): the document
 */
char *
gaze_conversation_to_markdown (GazeConversation *self)
{
  GString *out;

  g_return_val_if_fail (GAZE_IS_CONVERSATION (self), NULL);

  out = g_string_new (NULL);

  for (guint i = 0; i < self->turns->len; i++)
    {
      Turn *turn = g_ptr_array_index (self->turns, i);

      if (i > 0)
        g_string_append (out, "\n---\n\n");

      /* The question is quoted, line by line, so that it cannot become a
       * heading or a list of the document.
       */
      g_string_append_printf (out, "## %s\n\n", _("Question"));
      if (turn->question[0] != '\0')
        {
          g_auto(GStrv) lines = g_strsplit (turn->question, "\n", -1);

          for (guint j = 0; lines[j] != NULL; j++)
            g_string_append_printf (out, "> %s\n", lines[j]);
          g_string_append_c (out, '\n');
        }

      if (turn->images->len > 0)
        {
          g_string_append (out, _("Photos:"));
          for (guint j = 0; j < turn->images->len; j++)
            {
              GazeImage *image = g_ptr_array_index (turn->images, j);

              g_string_append_printf (out, "%s *%s* (%d × %d)",
                                      j == 0 ? "" : ",",
                                      gaze_image_get_name (image),
                                      gaze_image_get_width (image),
                                      gaze_image_get_height (image));
            }
          g_string_append (out, "\n\n");
        }

      g_string_append_printf (out, "## %s\n\n", _("Answer"));
      g_string_append (out, turn->answer);
      if (!g_str_has_suffix (turn->answer, "\n"))
        g_string_append_c (out, '\n');
    }

  return g_string_free (out, FALSE);
}
