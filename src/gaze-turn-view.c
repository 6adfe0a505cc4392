/* gaze-turn-view.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "gaze-turn-view"

#include "config.h"

#include <glib/gi18n.h>

#include "gaze-image.h"
#include "gaze-image-tile.h"
#include "gaze-markdown-view.h"
#include "gaze-turn-view.h"

#define THUMBNAIL_SIZE 64

/* A large answer arriving at once unrolls over a few frames instead of
 * freezing the window: this much more Markdown is turned into widgets a
 * frame. (Measured with gaze-bench-render: more per frame does not make
 * it faster, since laying out what is there already costs the most.)
 */
#define SHOW_PER_FRAME 4096

/* One question with its photos, and the answer to it once it is there. */
struct _GazeTurnView
{
  GtkWidget         parent_instance;

  GtkBox           *images_box;
  GtkLabel         *question_label;
  GtkBox           *pending_box;
  GtkSpinner       *spinner;
  GtkLabel         *status_label;
  GazeMarkdownView *answer_view;
  GtkLabel         *note_label;
  GtkWidget        *actions_box;
  GtkWidget        *continue_button;
  GtkLabel         *usage_label;

  /* The answer so far; shown once a frame, however often it grows, and
   * at most SHOW_PER_FRAME more bytes of it a frame.
   */
  GString          *answer;
  gsize             shown;
  guint             tick_id;
};

G_DEFINE_FINAL_TYPE (GazeTurnView, gaze_turn_view, GTK_TYPE_WIDGET)

static void
gaze_turn_view_dispose (GObject *object)
{
  GazeTurnView *self = (GazeTurnView *)object;
  GtkWidget *child;

  g_assert (GAZE_IS_TURN_VIEW (self));

  if (self->tick_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->tick_id);
      self->tick_id = 0;
    }

  gtk_widget_dispose_template (GTK_WIDGET (object), GAZE_TYPE_TURN_VIEW);

  /* The template's top box is not a bound child, so it is unparented here. */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (object))))
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (gaze_turn_view_parent_class)->dispose (object);
}

static void
gaze_turn_view_copy_action (GtkWidget  *widget,
                            const char *action_name,
                            GVariant   *param)
{
  GazeTurnView *self = GAZE_TURN_VIEW (widget);

  g_assert (GAZE_IS_TURN_VIEW (self));

  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), self->answer->str);
}

static void
gaze_turn_view_finalize (GObject *object)
{
  GazeTurnView *self = (GazeTurnView *)object;

  g_assert (GAZE_IS_TURN_VIEW (self));

  g_string_free (self->answer, TRUE);

  G_OBJECT_CLASS (gaze_turn_view_parent_class)->finalize (object);
}

static void
gaze_turn_view_class_init (GazeTurnViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = gaze_turn_view_dispose;
  object_class->finalize = gaze_turn_view_finalize;

  g_type_ensure (GAZE_TYPE_MARKDOWN_VIEW);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/gazeapp/Gaze/gaze-turn-view.ui");
  gtk_widget_class_bind_template_child (widget_class, GazeTurnView, images_box);
  gtk_widget_class_bind_template_child (widget_class, GazeTurnView, question_label);
  gtk_widget_class_bind_template_child (widget_class, GazeTurnView, pending_box);
  gtk_widget_class_bind_template_child (widget_class, GazeTurnView, spinner);
  gtk_widget_class_bind_template_child (widget_class, GazeTurnView, status_label);
  gtk_widget_class_bind_template_child (widget_class, GazeTurnView, answer_view);
  gtk_widget_class_bind_template_child (widget_class, GazeTurnView, note_label);
  gtk_widget_class_bind_template_child (widget_class, GazeTurnView, actions_box);
  gtk_widget_class_bind_template_child (widget_class, GazeTurnView, continue_button);
  gtk_widget_class_bind_template_child (widget_class, GazeTurnView, usage_label);

  gtk_widget_class_install_action (widget_class, "turn.copy", NULL, gaze_turn_view_copy_action);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "turn");
}

static void
gaze_turn_view_init (GazeTurnView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->answer = g_string_new (NULL);
}

/* Shows the next part of the answer; returns whether more is left. */
static gboolean
gaze_turn_view_show_more (GazeTurnView *self)
{
  const char *text = self->answer->str;
  gsize end = MIN (self->answer->len, self->shown + SHOW_PER_FRAME);
  g_autofree char *part = NULL;

  g_assert (GAZE_IS_TURN_VIEW (self));

  if (end < self->answer->len)
    {
      /* End at a line, if one is near, and never inside a character. */
      const char *newline = g_strrstr_len (text + self->shown, end - self->shown, "\n");

      if (newline != NULL)
        end = newline - text + 1;
      while (end > self->shown && (text[end] & 0xC0) == 0x80)
        end--;
    }

  self->shown = end;
  part = g_strndup (text, end);
  gaze_markdown_view_set_text (self->answer_view, part);
  gtk_widget_set_visible (GTK_WIDGET (self->answer_view), end > 0);

  /* Once words arrive, they show that something is happening. */
  if (end > 0)
    {
      gtk_spinner_stop (self->spinner);
      gtk_widget_set_visible (GTK_WIDGET (self->pending_box), FALSE);
    }

  return self->shown < self->answer->len;
}

static gboolean
gaze_turn_view_tick_cb (GtkWidget     *widget,
                        GdkFrameClock *frame_clock,
                        gpointer       user_data)
{
  GazeTurnView *self = GAZE_TURN_VIEW (widget);

  g_assert (GAZE_IS_TURN_VIEW (self));
  g_assert (GDK_IS_FRAME_CLOCK (frame_clock));

  if (gaze_turn_view_show_more (self))
    return G_SOURCE_CONTINUE;

  self->tick_id = 0;

  return G_SOURCE_REMOVE;
}

static void
gaze_turn_view_queue_show (GazeTurnView *self)
{
  g_assert (GAZE_IS_TURN_VIEW (self));

  if (self->tick_id == 0)
    self->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self),
                                                  gaze_turn_view_tick_cb,
                                                  NULL,
                                                  NULL);
}

/**
 * gaze_turn_view_append:
 * @self: a #GazeTurnView
 * @delta: the next piece of the answer
 *
 * Adds to the answer as it streams in. The answer is drawn again at most
 * once a frame, so ten thousand small pieces cost no more than the frames
 * they arrive in.
 */
void
gaze_turn_view_append (GazeTurnView *self,
                       const char   *delta)
{
  g_return_if_fail (GAZE_IS_TURN_VIEW (self));
  g_return_if_fail (delta != NULL);

  if (delta[0] == '\0')
    return;

  g_string_append (self->answer, delta);
  gaze_turn_view_queue_show (self);
}

static GtkWidget *
create_thumbnail (GazeImage *image)
{
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *description = NULL;
  GtkWidget *frame;
  GtkWidget *picture;

  g_assert (GAZE_IS_IMAGE (image));

  texture = gaze_image_tile_create_thumbnail (gaze_image_get_pixbuf (image), THUMBNAIL_SIZE);
  picture = gtk_image_new_from_paintable (GDK_PAINTABLE (texture));
  gtk_image_set_pixel_size (GTK_IMAGE (picture), THUMBNAIL_SIZE);

  /* The box clips the image to its rounded corners. */
  frame = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_widget_set_overflow (frame, GTK_OVERFLOW_HIDDEN);
  gtk_widget_add_css_class (frame, "thumbnail");
  gtk_box_append (GTK_BOX (frame), picture);
  gtk_widget_set_tooltip_text (picture, gaze_image_get_name (image));

  /* Translators: the accessible description of a sent photo: its name and size */
  description = g_strdup_printf (_("%s, %d × %d pixels"),
                                 gaze_image_get_name (image),
                                 gaze_image_get_width (image),
                                 gaze_image_get_height (image));
  gtk_accessible_update_property (GTK_ACCESSIBLE (picture),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, description,
                                  -1);

  return frame;
}

/**
 * gaze_turn_view_new:
 * @question: what was asked
 * @images: (nullable) (element-type GazeImage): the photos sent with it
 *
 * Returns: (transfer floating): a turn that waits for its answer
 */
GazeTurnView *
gaze_turn_view_new (const char *question,
                    GPtrArray  *images)
{
  GazeTurnView *self;

  g_return_val_if_fail (question != NULL, NULL);

  self = g_object_new (GAZE_TYPE_TURN_VIEW, NULL);
  gtk_label_set_label (self->question_label, question);
  gtk_widget_set_visible (GTK_WIDGET (self->question_label), question[0] != '\0');

  for (guint i = 0; images != NULL && i < images->len; i++)
    gtk_box_append (self->images_box, create_thumbnail (g_ptr_array_index (images, i)));
  gtk_widget_set_visible (GTK_WIDGET (self->images_box), images != NULL && images->len > 0);

  return self;
}

/**
 * gaze_turn_view_set_answer:
 * @self: a #GazeTurnView
 * @answer: the whole answer, as Markdown
 * @note: (nullable): a remark under the answer, such as why it stopped
 */
void
gaze_turn_view_set_answer (GazeTurnView *self,
                           const char   *answer,
                           const char   *note)
{
  g_return_if_fail (GAZE_IS_TURN_VIEW (self));
  g_return_if_fail (answer != NULL);

  gtk_spinner_stop (self->spinner);
  gtk_widget_set_visible (GTK_WIDGET (self->pending_box), FALSE);

  /* What was shown of a streamed answer stays; the rest unrolls. */
  if (!g_str_has_prefix (answer, self->answer->str))
    self->shown = 0;
  g_string_assign (self->answer, answer);
  if (self->shown < self->answer->len || self->answer->len == 0)
    gaze_turn_view_show_more (self);
  if (self->shown < self->answer->len)
    gaze_turn_view_queue_show (self);
  gtk_widget_set_visible (self->actions_box, answer[0] != '\0');

  gtk_label_set_label (self->note_label, note);
  gtk_widget_set_visible (GTK_WIDGET (self->note_label), note != NULL && note[0] != '\0');
}

/**
 * gaze_turn_view_set_status:
 * @self: a #GazeTurnView
 * @status: (nullable): what is happening while the answer is awaited, or
 *   %NULL for the usual words
 */
void
gaze_turn_view_set_status (GazeTurnView *self,
                           const char   *status)
{
  g_return_if_fail (GAZE_IS_TURN_VIEW (self));

  gtk_label_set_label (self->status_label, status ? status : _("Looking…"));
}

/**
 * gaze_turn_view_set_finished:
 * @self: a #GazeTurnView
 * @can_continue: whether the answer was cut at the longest answer allowed
 * @prompt_tokens: the tokens the question used, photos included, or -1
 * @completion_tokens: the tokens the answer used, or -1 if not reported
 */
void
gaze_turn_view_set_finished (GazeTurnView *self,
                             gboolean      can_continue,
                             gint64        prompt_tokens,
                             gint64        completion_tokens)
{
  g_return_if_fail (GAZE_IS_TURN_VIEW (self));

  gtk_widget_set_visible (self->continue_button, can_continue);

  if (prompt_tokens >= 0 && completion_tokens >= 0)
    {
      g_autofree char *usage = NULL;

      /* Translators: the tokens a question (with its photos) and its answer used */
      usage = g_strdup_printf (_("%u + %u tokens"),
                               (guint)MIN (prompt_tokens, G_MAXUINT),
                               (guint)MIN (completion_tokens, G_MAXUINT));
      gtk_label_set_label (self->usage_label, usage);
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->usage_label),
                                   _("Tokens of the question and its photos, "
                                     "plus tokens of the answer"));
    }
  gtk_widget_set_visible (GTK_WIDGET (self->usage_label),
                          prompt_tokens >= 0 && completion_tokens >= 0);
  gtk_widget_set_visible (self->actions_box, TRUE);
}

/**
 * gaze_turn_view_get_shown:
 *
 * Returns: whether all of the answer received so far is on screen
 */
gboolean
gaze_turn_view_get_shown (GazeTurnView *self)
{
  g_return_val_if_fail (GAZE_IS_TURN_VIEW (self), FALSE);

  return self->shown == self->answer->len && self->tick_id == 0;
}

/**
 * gaze_turn_view_set_can_continue:
 * @self: a #GazeTurnView
 * @can_continue: whether to offer to continue the answer
 */
void
gaze_turn_view_set_can_continue (GazeTurnView *self,
                                 gboolean      can_continue)
{
  g_return_if_fail (GAZE_IS_TURN_VIEW (self));

  gtk_widget_set_visible (self->continue_button, can_continue);
}

const char *
gaze_turn_view_get_answer (GazeTurnView *self)
{
  g_return_val_if_fail (GAZE_IS_TURN_VIEW (self), NULL);

  return self->answer->str;
}
