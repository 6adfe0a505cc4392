/* gaze-image-tile.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "gaze-image-tile"

#include "config.h"

#include <glib/gi18n.h>

#include "gaze-image-tile.h"

/* A photo attached to the next question: it prepares itself in a worker
 * thread, shows its thumbnail and prepared size, and can be removed.
 */
struct _GazeImageTile
{
  GtkWidget        parent_instance;

  GazeImageCache  *cache;
  GCancellable    *cancellable;
  GazeImage       *image;
  char            *name;
  GazeDetail       detail;
  /* Whether the person picked the detail, rather than taking the default. */
  gboolean         chosen;

  /* Where the photo comes from, to prepare it again at another detail. */
  GFile           *file;
  GBytes          *bytes;

  GtkImage        *picture;
  GtkSpinner      *spinner;
  GtkLabel        *name_label;
  GtkLabel        *size_label;
  GtkButton       *remove_button;
  GtkToggleButton *low_button;
  GtkToggleButton *high_button;
};

enum {
  PROP_0,
  PROP_IMAGE,
  PROP_BUSY,
  N_PROPS
};

enum {
  FAILED,
  REMOVE,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (GazeImageTile, gaze_image_tile, GTK_TYPE_WIDGET)

static void gaze_image_tile_detail_toggled_cb (GazeImageTile   *self,
                                               GtkToggleButton *button);

#define THUMBNAIL_SIZE 96

/**
 * gaze_image_tile_create_thumbnail:
 * @pixbuf: a prepared image
 * @size: the thumbnail's size in logical pixels
 *
 * Crops the middle square of @pixbuf and scales it to twice @size, so that
 * the thumbnail is sharp on a high-resolution screen and costs little
 * memory however large the photo is.
 *
 * This runs on the main thread: a prepared image is at most 768 pixels on
 * its shorter side, so it takes about a millisecond, once per photo. Leaving
 * the scaling to GtkPicture instead would cost more on every frame with the
 * cairo renderer.
 *
 * Returns: (transfer full): a square texture
 */
GdkTexture *
gaze_image_tile_create_thumbnail (GdkPixbuf *pixbuf,
                                  int        size)
{
  g_autoptr(GdkPixbuf) square = NULL;
  g_autoptr(GdkPixbuf) scaled = NULL;
  int width, height, side, target;

  g_return_val_if_fail (GDK_IS_PIXBUF (pixbuf), NULL);

  width = gdk_pixbuf_get_width (pixbuf);
  height = gdk_pixbuf_get_height (pixbuf);
  side = MIN (width, height);
  target = MIN (side, size * 2);

  square = gdk_pixbuf_new_subpixbuf (pixbuf, (width - side) / 2, (height - side) / 2, side, side);
  scaled = gdk_pixbuf_scale_simple (square, target, target, GDK_INTERP_BILINEAR);

  return gdk_texture_new_for_pixbuf (scaled);
}

static void
gaze_image_tile_set_name (GazeImageTile *self,
                          const char    *name)
{
  g_autofree char *description = NULL;
  g_autofree char *remove_label = NULL;

  g_assert (GAZE_IS_IMAGE_TILE (self));

  g_free (self->name);
  self->name = g_strdup (name);
  gtk_label_set_label (self->name_label, name);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self), name);

  /* Translators: the accessible description of a photo being prepared */
  description = g_strdup_printf (_("%s, preparing"), name);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, description,
                                  -1);

  /* Translators: the accessible name of the button that removes a photo;
   * %s is the photo's file name */
  remove_label = g_strdup_printf (_("Remove %s"), name);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->remove_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, remove_label,
                                  -1);
}

static void
gaze_image_tile_prepared_cb (GObject      *object,
                             GAsyncResult *result,
                             gpointer      user_data)
{
  g_autoptr(GazeImageTile) self = user_data;
  g_autoptr(GazeImage) image = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *size = NULL;
  g_autofree char *description = NULL;
  int width, height;

  g_assert (GAZE_IS_IMAGE_TILE (self));
  g_assert (GAZE_IS_IMAGE_CACHE (object));
  g_assert (G_IS_ASYNC_RESULT (result));

  if (!(image = gaze_image_cache_prepare_finish (GAZE_IMAGE_CACHE (object), result, &error)))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_signal_emit (self, signals[FAILED], 0, error);
      return;
    }

  g_set_object (&self->image, image);

  texture = gaze_image_tile_create_thumbnail (gaze_image_get_pixbuf (image), THUMBNAIL_SIZE);
  gtk_image_set_from_paintable (self->picture, GDK_PAINTABLE (texture));
  gtk_spinner_stop (self->spinner);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), FALSE);

  width = gaze_image_get_width (image);
  height = gaze_image_get_height (image);

  /* Translators: the size of a prepared photo in pixels, width × height */
  size = g_strdup_printf (_("%d × %d"), width, height);
  gtk_label_set_label (self->size_label, size);

  /* Translators: the accessible description of a photo: its name and size */
  description = g_strdup_printf (_("%s, %d × %d pixels"), self->name, width, height);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, description,
                                  -1);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IMAGE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

static void
gaze_image_tile_remove_action (GtkWidget  *widget,
                               const char *action_name,
                               GVariant   *param)
{
  GazeImageTile *self = GAZE_IMAGE_TILE (widget);

  g_assert (GAZE_IS_IMAGE_TILE (self));

  g_cancellable_cancel (self->cancellable);
  g_signal_emit (self, signals[REMOVE], 0);
}

static void
gaze_image_tile_dispose (GObject *object)
{
  GazeImageTile *self = (GazeImageTile *)object;
  GtkWidget *child;

  g_assert (GAZE_IS_IMAGE_TILE (self));

  g_cancellable_cancel (self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), GAZE_TYPE_IMAGE_TILE);

  /* The template's top box is not a bound child, so it is unparented here. */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))))
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (gaze_image_tile_parent_class)->dispose (object);
}

static void
gaze_image_tile_finalize (GObject *object)
{
  GazeImageTile *self = (GazeImageTile *)object;

  g_assert (GAZE_IS_IMAGE_TILE (self));

  g_clear_object (&self->cancellable);
  g_clear_object (&self->image);
  g_clear_object (&self->cache);
  g_clear_object (&self->file);
  g_clear_pointer (&self->bytes, g_bytes_unref);
  g_clear_pointer (&self->name, g_free);

  G_OBJECT_CLASS (gaze_image_tile_parent_class)->finalize (object);
}

static void
gaze_image_tile_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  GazeImageTile *self = GAZE_IMAGE_TILE (object);

  switch (prop_id)
    {
    case PROP_IMAGE:
      g_value_set_object (value, self->image);
      break;

    case PROP_BUSY:
      g_value_set_boolean (value, gaze_image_tile_get_busy (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gaze_image_tile_class_init (GazeImageTileClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = gaze_image_tile_dispose;
  object_class->finalize = gaze_image_tile_finalize;
  object_class->get_property = gaze_image_tile_get_property;

  properties[PROP_IMAGE] =
    g_param_spec_object ("image", NULL, NULL,
                         GAZE_TYPE_IMAGE,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL,
                          TRUE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * GazeImageTile::failed:
   * @error: why the image could not be prepared, in a sentence
   */
  signals[FAILED] = g_signal_new ("failed",
                                  G_TYPE_FROM_CLASS (klass),
                                  G_SIGNAL_RUN_LAST,
                                  0, NULL, NULL, NULL,
                                  G_TYPE_NONE, 1, G_TYPE_ERROR);

  /**
   * GazeImageTile::remove:
   *
   * The person asked to take this image off the question.
   */
  signals[REMOVE] = g_signal_new ("remove",
                                  G_TYPE_FROM_CLASS (klass),
                                  G_SIGNAL_RUN_LAST,
                                  0, NULL, NULL, NULL,
                                  G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/gazeapp/Gaze/gaze-image-tile.ui");
  gtk_widget_class_bind_template_child (widget_class, GazeImageTile, picture);
  gtk_widget_class_bind_template_child (widget_class, GazeImageTile, spinner);
  gtk_widget_class_bind_template_child (widget_class, GazeImageTile, name_label);
  gtk_widget_class_bind_template_child (widget_class, GazeImageTile, size_label);
  gtk_widget_class_bind_template_child (widget_class, GazeImageTile, remove_button);
  gtk_widget_class_bind_template_child (widget_class, GazeImageTile, low_button);
  gtk_widget_class_bind_template_child (widget_class, GazeImageTile, high_button);
  gtk_widget_class_bind_template_callback (widget_class, gaze_image_tile_detail_toggled_cb);

  gtk_widget_class_install_action (widget_class,
                                   "tile.remove",
                                   NULL,
                                   gaze_image_tile_remove_action);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "imagetile");
}

static void
gaze_image_tile_init (GazeImageTile *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
}

static void
gaze_image_tile_prepare (GazeImageTile *self)
{
  g_assert (GAZE_IS_IMAGE_TILE (self));

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  if (self->image != NULL)
    {
      g_clear_object (&self->image);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IMAGE]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
    }

  gtk_widget_set_visible (GTK_WIDGET (self->spinner), TRUE);
  gtk_spinner_start (self->spinner);
  /* Translators: shown under a photo while it is being made ready */
  gtk_label_set_label (self->size_label, _("Preparing…"));

  if (self->file != NULL)
    gaze_image_cache_prepare_file_async (self->cache, self->file, self->detail, self->cancellable,
                                         gaze_image_tile_prepared_cb, g_object_ref (self));
  else
    gaze_image_cache_prepare_bytes_async (self->cache, self->bytes, self->name, self->detail,
                                          self->cancellable,
                                          gaze_image_tile_prepared_cb, g_object_ref (self));
}

/* Automatic is prepared and counted as high detail (see
 * gaze_detail_fit_size() and gaze_tokens_for_image()), so that is what the
 * tile shows for it.
 */
static GazeDetail
resolve_detail (GazeDetail detail)
{
  return detail == GAZE_DETAIL_AUTO ? GAZE_DETAIL_HIGH : detail;
}

/* The toggle always shows the detail the photo is prepared for, and says
 * when it comes from the default "Automatic" rather than from a choice.
 */
static void
gaze_image_tile_show_detail (GazeImageTile *self)
{
  GazeDetail shown = resolve_detail (self->detail);
  const char *high_tooltip;

  g_assert (GAZE_IS_IMAGE_TILE (self));

  g_signal_handlers_block_by_func (self->low_button, gaze_image_tile_detail_toggled_cb, self);
  g_signal_handlers_block_by_func (self->high_button, gaze_image_tile_detail_toggled_cb, self);
  gtk_toggle_button_set_active (self->low_button, shown == GAZE_DETAIL_LOW);
  gtk_toggle_button_set_active (self->high_button, shown == GAZE_DETAIL_HIGH);
  g_signal_handlers_unblock_by_func (self->high_button, gaze_image_tile_detail_toggled_cb, self);
  g_signal_handlers_unblock_by_func (self->low_button, gaze_image_tile_detail_toggled_cb, self);

  if (self->detail == GAZE_DETAIL_AUTO)
    {
      /* Translators: the tooltip of the High button of a photo while it
       * follows the default detail, “Automatic” in Preferences */
      high_tooltip = _("High detail, following the default “Automatic”: reads small print, "
                       "costs more tokens");
    }
  else
    {
      high_tooltip = _("High detail: reads small print, costs more tokens");
    }

  gtk_widget_set_tooltip_text (GTK_WIDGET (self->high_button), high_tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->high_button),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, high_tooltip,
                                  -1);
}

/* Runs for "toggled" and for "clicked": with the default "Automatic" the
 * High button is shown active, and a click on it toggles nothing; it still
 * means the person wants High, whatever the default becomes. */
static void
gaze_image_tile_detail_toggled_cb (GazeImageTile   *self,
                                   GtkToggleButton *button)
{
  GazeDetail detail;

  g_assert (GAZE_IS_IMAGE_TILE (self));
  g_assert (GTK_IS_TOGGLE_BUTTON (button));

  if (!gtk_toggle_button_get_active (button))
    return;

  detail = button == self->low_button ? GAZE_DETAIL_LOW : GAZE_DETAIL_HIGH;
  self->chosen = TRUE;
  if (detail == self->detail)
    return;

  self->detail = detail;
  gaze_image_tile_show_detail (self);
  gaze_image_tile_prepare (self);
}

static void
gaze_image_tile_set_detail (GazeImageTile *self,
                            GazeDetail     detail)
{
  g_assert (GAZE_IS_IMAGE_TILE (self));
  g_assert (gaze_detail_is_valid (detail));

  self->detail = detail;
  gaze_image_tile_show_detail (self);
}

/**
 * gaze_image_tile_set_default_detail:
 * @self: a #GazeImageTile
 * @detail: the detail chosen in Preferences
 *
 * A photo whose detail the person has not picked follows the default, and
 * is prepared again when the default changes.
 */
void
gaze_image_tile_set_default_detail (GazeImageTile *self,
                                    GazeDetail     detail)
{
  g_return_if_fail (GAZE_IS_IMAGE_TILE (self));
  g_return_if_fail (gaze_detail_is_valid (detail));

  if (self->chosen || detail == self->detail)
    return;

  gaze_image_tile_set_detail (self, detail);
  gaze_image_tile_prepare (self);
}

/**
 * gaze_image_tile_new_for_file:
 * @cache: where prepared photos are kept
 * @file: the photo
 * @detail: how closely the model should look at it
 *
 * Returns: (transfer floating): a tile that starts preparing @file at once
 */
GazeImageTile *
gaze_image_tile_new_for_file (GazeImageCache *cache,
                              GFile          *file,
                              GazeDetail      detail)
{
  GazeImageTile *self;
  g_autofree char *basename = NULL;

  g_return_val_if_fail (GAZE_IS_IMAGE_CACHE (cache), NULL);
  g_return_val_if_fail (G_IS_FILE (file), NULL);
  g_return_val_if_fail (gaze_detail_is_valid (detail), NULL);

  self = g_object_new (GAZE_TYPE_IMAGE_TILE, NULL);
  self->cache = g_object_ref (cache);
  basename = g_file_get_basename (file);
  gaze_image_tile_set_name (self, basename ? basename : _("Photo"));
  self->file = g_object_ref (file);
  gaze_image_tile_set_detail (self, detail);
  gaze_image_tile_prepare (self);

  return self;
}

/**
 * gaze_image_tile_new_for_bytes:
 * @cache: where prepared photos are kept
 * @bytes: an encoded image, as pasted or dropped
 * @name: what to call it
 * @detail: how closely the model should look at it
 *
 * Returns: (transfer floating): a tile that starts preparing @bytes at once
 */
GazeImageTile *
gaze_image_tile_new_for_bytes (GazeImageCache *cache,
                               GBytes         *bytes,
                               const char     *name,
                               GazeDetail      detail)
{
  GazeImageTile *self;

  g_return_val_if_fail (GAZE_IS_IMAGE_CACHE (cache), NULL);
  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (gaze_detail_is_valid (detail), NULL);

  self = g_object_new (GAZE_TYPE_IMAGE_TILE, NULL);
  self->cache = g_object_ref (cache);
  gaze_image_tile_set_name (self, name);
  self->bytes = g_bytes_ref (bytes);
  gaze_image_tile_set_detail (self, detail);
  gaze_image_tile_prepare (self);

  return self;
}

/**
 * gaze_image_tile_get_image:
 *
 * Returns: (transfer none) (nullable): the prepared image, once it is ready
 */
GazeImage *
gaze_image_tile_get_image (GazeImageTile *self)
{
  g_return_val_if_fail (GAZE_IS_IMAGE_TILE (self), NULL);

  return self->image;
}

gboolean
gaze_image_tile_get_busy (GazeImageTile *self)
{
  g_return_val_if_fail (GAZE_IS_IMAGE_TILE (self), FALSE);

  return self->image == NULL;
}
