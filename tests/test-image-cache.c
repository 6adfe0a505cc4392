/* test-image-cache.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-image-cache"

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "gaze-image-cache.h"

typedef struct
{
  GPtrArray *images;
  GPtrArray *errors;
  guint      n_done;
} Results;

static void
results_clear (Results *results)
{
  g_clear_pointer (&results->images, g_ptr_array_unref);
  g_clear_pointer (&results->errors, g_ptr_array_unref);
  results->n_done = 0;
}

static void
results_init (Results *results)
{
  results->images = g_ptr_array_new_with_free_func (g_object_unref);
  results->errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  results->n_done = 0;
}

static void
on_prepared (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  Results *results = user_data;
  GError *error = NULL;
  GazeImage *image;

  image = gaze_image_cache_prepare_finish (GAZE_IMAGE_CACHE (object), result, &error);
  g_assert_true ((image == NULL) != (error == NULL));

  if (image != NULL)
    g_ptr_array_add (results->images, image);
  else
    g_ptr_array_add (results->errors, error);

  results->n_done++;
}

static const GError *
get_error (Results *results,
           guint    index)
{
  g_assert_cmpuint (index, <, results->errors->len);

  return g_ptr_array_index (results->errors, index);
}

static void
wait_for (Results *results,
          guint    n_done)
{
  while (results->n_done < n_done)
    g_main_context_iteration (NULL, TRUE);
}

static GBytes *
make_png (int     width,
          int     height,
          guint32 rgba)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  g_autoptr(GError) error = NULL;
  char *buffer = NULL;
  gsize len = 0;

  gdk_pixbuf_fill (pixbuf, rgba);
  gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &len, "png", &error, NULL);
  g_assert_no_error (error);

  return g_bytes_new_take (buffer, len);
}

static GazeImage *
prepare_file (GazeImageCache *cache,
              GFile          *file,
              GazeDetail      detail)
{
  Results results;
  GazeImage *image;

  results_init (&results);
  gaze_image_cache_prepare_file_async (cache, file, detail, NULL, on_prepared, &results);
  wait_for (&results, 1);
  g_assert_cmpuint (results.errors->len, ==, 0);
  image = g_object_ref (g_ptr_array_index (results.images, 0));
  results_clear (&results);

  return image;
}

static GazeImage *
prepare_bytes (GazeImageCache *cache,
               GBytes         *bytes,
               const char     *name,
               GazeDetail      detail)
{
  Results results;
  GazeImage *image;

  results_init (&results);
  gaze_image_cache_prepare_bytes_async (cache, bytes, name, detail, NULL, on_prepared, &results);
  wait_for (&results, 1);
  g_assert_cmpuint (results.errors->len, ==, 0);
  image = g_object_ref (g_ptr_array_index (results.images, 0));
  results_clear (&results);

  return image;
}

static void
write_file (const char *path,
            GBytes     *bytes,
            guint64     mtime)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error);
  g_assert_no_error (error);

  /* Saving twice within a second must still count as a change; the test
   * sets the time rather than wait. */
  g_file_set_attribute_uint64 (file, G_FILE_ATTRIBUTE_TIME_MODIFIED, mtime,
                               G_FILE_QUERY_INFO_NONE, NULL, &error);
  g_assert_no_error (error);
}

static void
test_cache_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("gaze-test-image-cache-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "Garden.png", NULL);
  g_autoptr(GBytes) green = make_png (900, 600, 0x20c020ff);
  g_autoptr(GBytes) red = make_png (600, 900, 0xe02020ff);
  g_autoptr(GazeImageCache) cache = gaze_image_cache_new (GAZE_IMAGE_CACHE_DEFAULT_MAX_SIZE);
  g_autoptr(GFile) file = NULL;
  g_autoptr(GazeImage) first = NULL;
  g_autoptr(GazeImage) again = NULL;
  g_autoptr(GazeImage) low = NULL;
  g_autoptr(GazeImage) changed = NULL;

  g_assert_no_error (error);
  write_file (path, green, 1700000000);
  file = g_file_new_for_path (path);

  g_assert_cmpuint (gaze_image_cache_get_n_images (cache), ==, 0);
  g_assert_cmpuint (gaze_image_cache_get_size (cache), ==, 0);

  first = prepare_file (cache, file, GAZE_DETAIL_HIGH);
  g_assert_cmpint (gaze_image_get_width (first), ==, 900);
  g_assert_cmpstr (gaze_image_get_name (first), ==, "Garden.png");
  g_assert_cmpuint (gaze_image_cache_get_n_images (cache), ==, 1);
  g_assert_cmpuint (gaze_image_cache_get_size (cache), >=, 900 * 600 * 3);

  /* The same file again is the same prepared image. */
  again = prepare_file (cache, file, GAZE_DETAIL_HIGH);
  g_assert_true (again == first);
  g_assert_cmpuint (gaze_image_cache_get_n_images (cache), ==, 1);

  /* Another detail is another image. */
  low = prepare_file (cache, file, GAZE_DETAIL_LOW);
  g_assert_true (low != first);
  g_assert_cmpint (gaze_image_get_width (low), ==, 512);
  g_assert_cmpuint (gaze_image_cache_get_n_images (cache), ==, 2);

  /* A file saved again under the same name is prepared again. */
  write_file (path, red, 1700000060);
  changed = prepare_file (cache, file, GAZE_DETAIL_HIGH);
  g_assert_true (changed != first);
  g_assert_cmpint (gaze_image_get_width (changed), ==, 600);
  g_assert_cmpint (gaze_image_get_height (changed), ==, 900);
  g_assert_cmpuint (gaze_image_cache_get_n_images (cache), ==, 3);

  g_assert_cmpint (g_remove (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);

  /* Once the cache is gone, the images it kept are only ours. */
  g_assert_finalize_object (g_steal_pointer (&cache));
  g_clear_object (&again);
  g_assert_finalize_object (g_steal_pointer (&first));
  g_assert_finalize_object (g_steal_pointer (&low));
  g_assert_finalize_object (g_steal_pointer (&changed));
}

static void
test_cache_bytes (void)
{
  g_autoptr(GBytes) blue = make_png (300, 200, 0x2060a0ff);
  g_autoptr(GBytes) blue_copy = g_bytes_new (g_bytes_get_data (blue, NULL),
                                             g_bytes_get_size (blue));
  g_autoptr(GBytes) red = make_png (300, 200, 0xe02020ff);
  g_autoptr(GazeImageCache) cache = gaze_image_cache_new (GAZE_IMAGE_CACHE_DEFAULT_MAX_SIZE);
  g_autoptr(GazeImage) first = NULL;
  g_autoptr(GazeImage) again = NULL;
  g_autoptr(GazeImage) other = NULL;
  g_autoptr(GazeImage) renamed = NULL;

  first = prepare_bytes (cache, blue, "Pasted image", GAZE_DETAIL_HIGH);

  /* Pasting the same picture again, even from another buffer. */
  again = prepare_bytes (cache, blue_copy, "Pasted image", GAZE_DETAIL_HIGH);
  g_assert_true (again == first);

  other = prepare_bytes (cache, red, "Pasted image", GAZE_DETAIL_HIGH);
  g_assert_true (other != first);

  /* The image carries its name, so another name is another image. */
  renamed = prepare_bytes (cache, blue, "screenshot.png", GAZE_DETAIL_HIGH);
  g_assert_true (renamed != first);
  g_assert_cmpstr (gaze_image_get_name (renamed), ==, "screenshot.png");

  g_assert_cmpuint (gaze_image_cache_get_n_images (cache), ==, 3);
  g_assert_finalize_object (g_steal_pointer (&cache));
}

static void
test_cache_concurrent (void)
{
  g_autoptr(GBytes) photo = make_png (3000, 2000, 0x2060a0ff);
  g_autoptr(GazeImageCache) cache = gaze_image_cache_new (GAZE_IMAGE_CACHE_DEFAULT_MAX_SIZE);
  Results results;

  /* Five requests at once share one preparation: they all get the same
   * image, where separate preparations would each make their own. */
  results_init (&results);
  for (guint i = 0; i < 5; i++)
    gaze_image_cache_prepare_bytes_async (cache, photo, "IMG_0001.PNG", GAZE_DETAIL_HIGH, NULL,
                                          on_prepared, &results);
  wait_for (&results, 5);

  g_assert_cmpuint (results.errors->len, ==, 0);
  g_assert_cmpuint (results.images->len, ==, 5);
  for (guint i = 1; i < 5; i++)
    g_assert_true (g_ptr_array_index (results.images, i) == g_ptr_array_index (results.images, 0));
  g_assert_cmpint (gaze_image_get_width (g_ptr_array_index (results.images, 0)), ==, 1152);
  g_assert_cmpuint (gaze_image_cache_get_n_images (cache), ==, 1);

  results_clear (&results);
  g_assert_finalize_object (g_steal_pointer (&cache));
}

static void
test_cache_cancel (void)
{
  g_autoptr(GBytes) photo = make_png (3000, 2000, 0x808080ff);
  g_autoptr(GazeImageCache) cache = gaze_image_cache_new (GAZE_IMAGE_CACHE_DEFAULT_MAX_SIZE);
  g_autoptr(GCancellable) first = g_cancellable_new ();
  g_autoptr(GCancellable) second = g_cancellable_new ();
  Results results;

  /* One of two requests is cancelled: it ends at once, cancelled, and the
   * other still gets the image. */
  results_init (&results);
  gaze_image_cache_prepare_bytes_async (cache, photo, "a.png", GAZE_DETAIL_LOW, first,
                                        on_prepared, &results);
  gaze_image_cache_prepare_bytes_async (cache, photo, "a.png", GAZE_DETAIL_LOW, second,
                                        on_prepared, &results);
  g_cancellable_cancel (first);
  wait_for (&results, 2);
  g_assert_cmpuint (results.errors->len, ==, 1);
  g_assert_error (get_error (&results, 0), G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (results.images->len, ==, 1);
  g_assert_cmpuint (gaze_image_cache_get_n_images (cache), ==, 1);
  results_clear (&results);

  /* When every request is cancelled, so is the preparation, and a new
   * request starts a new one instead of joining it. */
  gaze_image_cache_clear (cache);
  g_assert_cmpuint (gaze_image_cache_get_n_images (cache), ==, 0);
  g_cancellable_reset (first);
  g_cancellable_reset (second);

  results_init (&results);
  gaze_image_cache_prepare_bytes_async (cache, photo, "b.png", GAZE_DETAIL_HIGH, first,
                                        on_prepared, &results);
  gaze_image_cache_prepare_bytes_async (cache, photo, "b.png", GAZE_DETAIL_HIGH, second,
                                        on_prepared, &results);
  g_cancellable_cancel (first);
  g_cancellable_cancel (second);
  gaze_image_cache_prepare_bytes_async (cache, photo, "b.png", GAZE_DETAIL_HIGH, NULL,
                                        on_prepared, &results);
  wait_for (&results, 3);
  g_assert_cmpuint (results.errors->len, ==, 2);
  g_assert_error (get_error (&results, 0), G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_error (get_error (&results, 1), G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (results.images->len, ==, 1);
  g_assert_cmpint (gaze_image_get_width (g_ptr_array_index (results.images, 0)), ==, 1152);
  results_clear (&results);

  /* Wait for the cancelled preparation to let go of the cache. */
  while (G_OBJECT (cache)->ref_count > 1)
    g_main_context_iteration (NULL, TRUE);
  g_assert_finalize_object (g_steal_pointer (&cache));
}

static void
test_cache_lru (void)
{
  g_autoptr(GBytes) a = make_png (200, 100, 0xff0000ff);
  g_autoptr(GBytes) b = make_png (200, 100, 0x00ff00ff);
  g_autoptr(GBytes) c = make_png (200, 100, 0x0000ffff);
  g_autoptr(GazeImageCache) cache = NULL;
  g_autoptr(GazeImage) image_a = NULL;
  g_autoptr(GazeImage) image_b = NULL;
  g_autoptr(GazeImage) image_c = NULL;
  g_autoptr(GazeImage) again = NULL;
  gsize one;

  /* Measure one image, then make room for two. */
  cache = gaze_image_cache_new (G_MAXSIZE);
  image_a = prepare_bytes (cache, a, "a.png", GAZE_DETAIL_HIGH);
  one = gaze_image_cache_get_size (cache);
  g_assert_cmpuint (one, >=, 200 * 100 * 3);
  gaze_image_cache_set_max_size (cache, 2 * one + one / 2);
  g_assert_cmpuint (gaze_image_cache_get_max_size (cache), ==, 2 * one + one / 2);

  image_b = prepare_bytes (cache, b, "b.png", GAZE_DETAIL_HIGH);
  g_assert_cmpuint (gaze_image_cache_get_n_images (cache), ==, 2);

  /* Using a makes b the least recently used, so c pushes b out. */
  again = prepare_bytes (cache, a, "a.png", GAZE_DETAIL_HIGH);
  g_assert_true (again == image_a);
  g_clear_object (&again);

  image_c = prepare_bytes (cache, c, "c.png", GAZE_DETAIL_HIGH);
  g_assert_cmpuint (gaze_image_cache_get_n_images (cache), ==, 2);
  g_assert_cmpuint (gaze_image_cache_get_size (cache), <=, gaze_image_cache_get_max_size (cache));

  again = prepare_bytes (cache, a, "a.png", GAZE_DETAIL_HIGH);
  g_assert_true (again == image_a);
  g_clear_object (&again);

  again = prepare_bytes (cache, b, "b.png", GAZE_DETAIL_HIGH);
  g_assert_true (again != image_b);
  g_clear_object (&again);

  /* An image larger than the whole cache is returned, not kept. */
  gaze_image_cache_set_max_size (cache, one / 2);
  g_assert_cmpuint (gaze_image_cache_get_n_images (cache), ==, 0);
  g_assert_cmpuint (gaze_image_cache_get_size (cache), ==, 0);
  again = prepare_bytes (cache, c, "c.png", GAZE_DETAIL_HIGH);
  g_assert_true (again != image_c);
  g_assert_cmpuint (gaze_image_cache_get_n_images (cache), ==, 0);

  /* Dropped images live on for whoever holds them. */
  g_assert_finalize_object (g_steal_pointer (&cache));
  g_assert_cmpint (gaze_image_get_width (image_b), ==, 200);
}

static void
test_cache_errors (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("gaze-test-image-cache-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "later.png", NULL);
  g_autoptr(GBytes) text = g_bytes_new_static ("not a picture", 13);
  g_autoptr(GBytes) png = make_png (64, 64, 0x123456ff);
  g_autoptr(GazeImageCache) cache = gaze_image_cache_new (GAZE_IMAGE_CACHE_DEFAULT_MAX_SIZE);
  g_autoptr(GFile) file = NULL;
  g_autoptr(GazeImage) image = NULL;
  Results results;

  g_assert_no_error (error);
  file = g_file_new_for_path (path);

  results_init (&results);
  gaze_image_cache_prepare_file_async (cache, file, GAZE_DETAIL_HIGH, NULL, on_prepared, &results);
  gaze_image_cache_prepare_bytes_async (cache, text, "notes.txt", GAZE_DETAIL_HIGH, NULL,
                                        on_prepared, &results);
  wait_for (&results, 2);
  g_assert_cmpuint (results.errors->len, ==, 2);
  g_assert_cmpuint (gaze_image_cache_get_n_images (cache), ==, 0);
  results_clear (&results);

  /* Failures are not kept: once the file is there, it is prepared. */
  write_file (path, png, 1700000000);
  image = prepare_file (cache, file, GAZE_DETAIL_HIGH);
  g_assert_cmpint (gaze_image_get_width (image), ==, 64);

  /* Cancelled before it starts. */
  {
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();

    g_cancellable_cancel (cancellable);
    results_init (&results);
    gaze_image_cache_prepare_file_async (cache, file, GAZE_DETAIL_LOW, cancellable,
                                         on_prepared, &results);
    gaze_image_cache_prepare_bytes_async (cache, png, "x.png", GAZE_DETAIL_LOW, cancellable,
                                          on_prepared, &results);
    wait_for (&results, 2);
    g_assert_cmpuint (results.errors->len, ==, 2);
    g_assert_error (get_error (&results, 0), G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_assert_error (get_error (&results, 1), G_IO_ERROR, G_IO_ERROR_CANCELLED);
    results_clear (&results);
  }

  g_assert_cmpint (g_remove (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);

  while (G_OBJECT (cache)->ref_count > 1)
    g_main_context_iteration (NULL, TRUE);
  g_assert_finalize_object (g_steal_pointer (&cache));
}

typedef struct
{
  guint n_size;
  guint n_images;
} Notifications;

static void
on_notify (GObject    *object,
           GParamSpec *pspec,
           gpointer    user_data)
{
  Notifications *notifications = user_data;

  if (g_str_equal (pspec->name, "size"))
    notifications->n_size++;
  else if (g_str_equal (pspec->name, "n-images"))
    notifications->n_images++;
}

static void
test_cache_properties (void)
{
  g_autoptr(GBytes) png = make_png (64, 64, 0x123456ff);
  g_autoptr(GazeImageCache) cache = gaze_image_cache_new (1000000);
  g_autoptr(GazeImage) image = NULL;
  Notifications notifications = { 0 };
  guint64 max_size;
  guint64 size;
  guint n_images;

  g_signal_connect (cache, "notify", G_CALLBACK (on_notify), &notifications);

  image = prepare_bytes (cache, png, "a.png", GAZE_DETAIL_LOW);
  g_assert_cmpuint (notifications.n_size, ==, 1);
  g_assert_cmpuint (notifications.n_images, ==, 1);

  g_object_get (cache, "max-size", &max_size, "size", &size, "n-images", &n_images, NULL);
  g_assert_cmpuint (max_size, ==, 1000000);
  g_assert_cmpuint (size, ==, gaze_image_cache_get_size (cache));
  g_assert_cmpuint (n_images, ==, 1);

  /* A hit changes nothing that is seen. */
  g_clear_object (&image);
  image = prepare_bytes (cache, png, "a.png", GAZE_DETAIL_LOW);
  g_assert_cmpuint (notifications.n_size, ==, 1);

  /* Setting the same maximum says nothing; clearing says what changed. */
  gaze_image_cache_set_max_size (cache, 1000000);
  gaze_image_cache_clear (cache);
  g_assert_cmpuint (notifications.n_size, ==, 2);
  g_assert_cmpuint (notifications.n_images, ==, 2);
  gaze_image_cache_clear (cache);
  g_assert_cmpuint (notifications.n_size, ==, 2);

  g_assert_finalize_object (g_steal_pointer (&cache));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/image-cache/file", test_cache_file);
  g_test_add_func ("/image-cache/bytes", test_cache_bytes);
  g_test_add_func ("/image-cache/concurrent", test_cache_concurrent);
  g_test_add_func ("/image-cache/cancel", test_cache_cancel);
  g_test_add_func ("/image-cache/lru", test_cache_lru);
  g_test_add_func ("/image-cache/errors", test_cache_errors);
  g_test_add_func ("/image-cache/properties", test_cache_properties);

  return g_test_run ();
}
