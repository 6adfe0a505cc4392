/* fuzz-jpeg.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Whatever a file that starts like a JPEG holds: Gaze's JPEG decoder, fed
 * in pieces, gives a picture of the size it asked for or an error, with the
 * coefficients in memory or in a file.
 */

#include "config.h"

#include <stdint.h>

#include "gaze-jpeg-private.h"

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

typedef struct
{
  int fit_width;
  int fit_height;
} Fit;

static gboolean
size_cb (int       width,
         int       height,
         gboolean  multi_scan,
         int      *fit_width,
         int      *fit_height,
         gpointer  user_data)
{
  Fit *fit = user_data;

  /* As the app does, refuse a size that would take too long here. */
  if ((gint64) width * height > 4 * 1000 * 1000)
    return FALSE;

  fit->fit_width = *fit_width = MAX (width / 3, 1);
  fit->fit_height = *fit_height = MAX (height / 3, 1);

  return TRUE;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GazeJpeg) jpeg = NULL;
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GError) error = NULL;
  Fit fit = { 0, 0 };
  gsize chunk;
  gboolean ok = TRUE;

  if (size < 1)
    return 0;

  /* The first byte picks the piece size and the store. */
  chunk = 1 + (data[0] & 0x3f) * 37;
  gaze_jpeg_set_memory_limit ((data[0] & 0x40) ? 0 : G_MAXSIZE);
  data++;
  size--;

  jpeg = gaze_jpeg_new (size_cb, &fit, NULL);

  for (gsize offset = 0; ok && offset < size; offset += chunk)
    ok = gaze_jpeg_write (jpeg, data + offset, MIN (chunk, size - offset), &error);

  if (ok)
    pixbuf = gaze_jpeg_finish (jpeg, &error);

  g_assert_true ((pixbuf != NULL) != (error != NULL));
  if (pixbuf != NULL)
    {
      g_assert_cmpint (gdk_pixbuf_get_width (pixbuf), ==, fit.fit_width);
      g_assert_cmpint (gdk_pixbuf_get_height (pixbuf), ==, fit.fit_height);
    }
  else
    g_assert_true (error->domain == GDK_PIXBUF_ERROR);

  return 0;
}
