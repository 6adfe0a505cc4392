/* gaze-tokens.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "gaze-tokens"

#include "config.h"

#include <glib/gi18n.h>

#include "gaze-tokens.h"

/* Azure's rule for GPT-4 Turbo with Vision, from its overview of the
 * model: a low-detail image costs 85 tokens whatever its size. A high-detail
 * image is scaled to fit inside 2048 × 2048, then so that its shorter side
 * is 768 pixels, and costs 85 tokens plus 170 for each 512-pixel tile it
 * covers. Scaling only ever makes images smaller: the documented examples
 * shrink large ones, and a small image is not enlarged to cover more tiles.
 */
#define BASE_TOKENS     85
#define TILE_TOKENS     170
#define TILE_SIZE       512
#define FIT_SIDE        2048
#define SHORT_SIDE      768

/* Scales @width × @height so that its @long side (or else its short side)
 * becomes @target, the other side rounded to the nearest pixel. */
static void
scale_side_to (gint64   *width,
               gint64   *height,
               gboolean  long_side,
               gint64    target)
{
  gint64 *side = (*width >= *height) == long_side ? width : height;
  gint64 *other = side == width ? height : width;

  *other = MAX (1, (*other * target + *side / 2) / *side);
  *side = target;
}

/**
 * gaze_tokens_for_image:
 * @width: the width of the image as sent
 * @height: the height of the image as sent
 * @detail: the detail it is sent with
 *
 * Estimates how many prompt tokens the service counts for an image. Give it
 * the prepared size (gaze_image_get_width()), since that is what is sent.
 * %GAZE_DETAIL_AUTO is counted as high detail: the service decides, and
 * the estimate should not come out short.
 *
 * Returns: the number of tokens
 */
guint
gaze_tokens_for_image (int        width,
                       int        height,
                       GazeDetail detail)
{
  gint64 w = width;
  gint64 h = height;
  gint64 tiles;

  g_return_val_if_fail (width > 0, 0);
  g_return_val_if_fail (height > 0, 0);
  g_return_val_if_fail (detail == GAZE_DETAIL_AUTO ||
                        detail == GAZE_DETAIL_LOW ||
                        detail == GAZE_DETAIL_HIGH, 0);

  if (detail == GAZE_DETAIL_LOW)
    return BASE_TOKENS;

  if (MAX (w, h) > FIT_SIDE)
    scale_side_to (&w, &h, TRUE, FIT_SIDE);

  if (MIN (w, h) > SHORT_SIDE)
    scale_side_to (&w, &h, FALSE, SHORT_SIDE);

  tiles = ((w + TILE_SIZE - 1) / TILE_SIZE) * ((h + TILE_SIZE - 1) / TILE_SIZE);

  return BASE_TOKENS + TILE_TOKENS * (guint) tiles;
}

/**
 * gaze_tokens_for_images:
 * @images: (nullable) (element-type GazeImage): prepared images
 *
 * Sums gaze_tokens_for_image() over @images, each at its prepared size and
 * with its own detail.
 *
 * Returns: the number of tokens
 */
guint
gaze_tokens_for_images (GPtrArray *images)
{
  guint tokens = 0;

  for (guint i = 0; images != NULL && i < images->len; i++)
    {
      GazeImage *image = g_ptr_array_index (images, i);

      g_return_val_if_fail (GAZE_IS_IMAGE (image), 0);

      tokens += gaze_tokens_for_image (gaze_image_get_width (image),
                                       gaze_image_get_height (image),
                                       gaze_image_get_detail (image));
    }

  return tokens;
}
