/* gaze-image-cache.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "gaze-image-cache"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "gaze-image-cache.h"

/*
 * The cache keeps prepared images so that the same photo is never prepared
 * twice. A file is known by its URI, size and modification time; pasted
 * bytes by their SHA-256 and the name they are shown with, which the
 * prepared image carries; both with the detail. A request for an image that
 * is being prepared waits for that preparation rather than starting another.
 *
 * It is bounded by the memory its images hold: the JPEG, its base64 and the
 * pixels kept for thumbnails. The least recently used go first; an image
 * that leaves the cache lives on for whoever holds it. Failures are not
 * kept, so a file that was missing can be attached once it is there.
 *
 * The cache belongs to the thread whose main context it is used from.
 */

/* Smaller pastes are hashed on the spot, in well under a millisecond;
 * larger ones in a worker thread. */
#define HASH_IN_PLACE_SIZE (256 * 1024)

#define FILE_ATTRIBUTES \
  G_FILE_ATTRIBUTE_STANDARD_SIZE "," \
  G_FILE_ATTRIBUTE_TIME_MODIFIED "," \
  G_FILE_ATTRIBUTE_TIME_MODIFIED_USEC

struct _GazeImageCache
{
  GObject     parent_instance;

  GHashTable *entries;        /* key → link in lru */
  GQueue      lru;            /* Entry, most recently used first */
  GHashTable *pending;        /* key → Pending, owned by its preparation */
  gsize       size;
  gsize       max_size;
};

G_DEFINE_FINAL_TYPE (GazeImageCache, gaze_image_cache, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_MAX_SIZE,
  PROP_SIZE,
  PROP_N_IMAGES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef struct
{
  char      *key;
  GazeImage *image;
  gsize      size;
} Entry;

typedef struct
{
  GazeImageCache *cache;      /* A reference, until the preparation ends. */
  char           *key;
  GCancellable   *cancellable;
  GList          *waiters;
  gboolean        abandoned;  /* Nobody waits any more; no longer in cache->pending. */
} Pending;

typedef struct
{
  Pending *pending;
  GTask   *task;
  GSource *cancelled_source;
} Waiter;

/* What to prepare, kept while the key is worked out. */
typedef struct
{
  GFile      *file;
  GBytes     *bytes;
  char       *name;
  GazeDetail  detail;
} Request;

static void
entry_free (Entry *entry)
{
  g_free (entry->key);
  g_clear_object (&entry->image);
  g_free (entry);
}

static void
pending_free (Pending *pending)
{
  g_assert (pending->waiters == NULL);

  g_clear_object (&pending->cache);
  g_clear_object (&pending->cancellable);
  g_free (pending->key);
  g_free (pending);
}

static void
waiter_free (Waiter *waiter)
{
  if (waiter->cancelled_source != NULL)
    {
      g_source_destroy (waiter->cancelled_source);
      g_clear_pointer (&waiter->cancelled_source, g_source_unref);
    }

  g_clear_object (&waiter->task);
  g_free (waiter);
}

static void
request_free (gpointer data)
{
  Request *request = data;

  g_clear_object (&request->file);
  g_clear_pointer (&request->bytes, g_bytes_unref);
  g_free (request->name);
  g_free (request);
}

/*
 * The images kept
 */

static gsize
get_image_size (GazeImage *image)
{
  GdkPixbuf *pixbuf = gaze_image_get_pixbuf (image);
  const char *base64 = gaze_image_get_base64 (image);

  return g_bytes_get_size (gaze_image_get_jpeg (image))
         + (base64 != NULL ? strlen (base64) : 0)
         + (pixbuf != NULL ? gdk_pixbuf_get_byte_length (pixbuf) : 0);
}

static void
notify_changes (GazeImageCache *self,
                gsize           old_size,
                guint           old_n_images)
{
  g_assert (GAZE_IS_IMAGE_CACHE (self));

  if (self->size != old_size)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SIZE]);

  if (self->lru.length != old_n_images)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_IMAGES]);
}

static void
remove_link (GazeImageCache *self,
             GList          *link)
{
  Entry *entry = link->data;

  g_assert (GAZE_IS_IMAGE_CACHE (self));

  g_queue_delete_link (&self->lru, link);
  g_hash_table_remove (self->entries, entry->key);
  self->size -= entry->size;
  entry_free (entry);
}

static void
evict_to (GazeImageCache *self,
          gsize           size)
{
  g_assert (GAZE_IS_IMAGE_CACHE (self));

  while (self->size > size && self->lru.tail != NULL)
    {
      g_debug ("Dropping “%s” from the cache",
               gaze_image_get_name (((Entry *) self->lru.tail->data)->image));
      remove_link (self, self->lru.tail);
    }
}

static GazeImage *
lookup (GazeImageCache *self,
        const char     *key)
{
  GList *link = g_hash_table_lookup (self->entries, key);

  g_assert (GAZE_IS_IMAGE_CACHE (self));

  if (link == NULL)
    return NULL;

  g_queue_unlink (&self->lru, link);
  g_queue_push_head_link (&self->lru, link);

  return ((Entry *) link->data)->image;
}

static void
insert (GazeImageCache *self,
        const char     *key,
        GazeImage      *image)
{
  gsize old_size = self->size;
  guint old_n_images = self->lru.length;
  gsize size = get_image_size (image);
  GList *link;
  Entry *entry;

  g_assert (GAZE_IS_IMAGE_CACHE (self));
  g_assert (GAZE_IS_IMAGE (image));

  if (size > self->max_size)
    {
      g_debug ("“%s” takes %" G_GSIZE_FORMAT " bytes, more than the whole cache",
               gaze_image_get_name (image), size);
      return;
    }

  if ((link = g_hash_table_lookup (self->entries, key)) != NULL)
    remove_link (self, link);

  evict_to (self, self->max_size - size);

  entry = g_new0 (Entry, 1);
  entry->key = g_strdup (key);
  entry->image = g_object_ref (image);
  entry->size = size;

  g_queue_push_head (&self->lru, entry);
  g_hash_table_insert (self->entries, entry->key, self->lru.head);
  self->size += size;

  notify_changes (self, old_size, old_n_images);
}

/*
 * Preparations, and those waiting for them
 */

static void
abandon (Pending *pending)
{
  GazeImageCache *self = pending->cache;

  g_assert (GAZE_IS_IMAGE_CACHE (self));
  g_assert (pending->waiters == NULL);

  /* A later request starts afresh rather than join a cancelled one. */
  pending->abandoned = TRUE;
  g_hash_table_remove (self->pending, pending->key);
  g_cancellable_cancel (pending->cancellable);
}

static gboolean
on_waiter_cancelled (GCancellable *cancellable,
                     gpointer      user_data)
{
  Waiter *waiter = user_data;
  Pending *pending = waiter->pending;

  g_assert (G_IS_CANCELLABLE (cancellable));

  /* This one stops waiting now; the preparation goes on for the others. */
  pending->waiters = g_list_remove (pending->waiters, waiter);
  g_task_return_error_if_cancelled (waiter->task);
  waiter_free (waiter);

  if (pending->waiters == NULL)
    abandon (pending);

  return G_SOURCE_REMOVE;
}

static void
on_prepared (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  Pending *pending = user_data;
  GazeImageCache *self = pending->cache;
  g_autoptr(GazeImage) image = NULL;
  g_autoptr(GError) error = NULL;
  GList *waiters;

  g_assert (GAZE_IS_IMAGE_CACHE (self));
  g_assert (G_IS_ASYNC_RESULT (result));

  image = gaze_image_prepare_finish (result, &error);

  if (!pending->abandoned)
    g_hash_table_remove (self->pending, pending->key);

  /* Even when nobody waits any more, a finished image is worth keeping. */
  if (image != NULL)
    insert (self, pending->key, image);

  waiters = g_steal_pointer (&pending->waiters);

  for (const GList *l = waiters; l != NULL; l = l->next)
    {
      Waiter *waiter = l->data;

      if (image != NULL)
        g_task_return_pointer (waiter->task, g_object_ref (image), g_object_unref);
      else
        g_task_return_error (waiter->task, g_error_copy (error));

      waiter_free (waiter);
    }

  g_list_free (waiters);
  pending_free (pending);
}

static Pending *
start_preparation (GazeImageCache *self,
                   const char     *key,
                   Request        *request)
{
  Pending *pending = g_new0 (Pending, 1);

  g_assert (GAZE_IS_IMAGE_CACHE (self));

  pending->cache = g_object_ref (self);
  pending->key = g_strdup (key);
  pending->cancellable = g_cancellable_new ();
  g_hash_table_insert (self->pending, pending->key, pending);

  if (request->file != NULL)
    gaze_image_prepare_file_async (request->file, request->detail, pending->cancellable,
                                   on_prepared, pending);
  else
    gaze_image_prepare_bytes_async (request->bytes, request->name, request->detail,
                                    pending->cancellable, on_prepared, pending);

  return pending;
}

/* Answers @task from the cache, or from the preparation of @key, started
 * now if none is under way. */
static void
prepare_keyed (GazeImageCache *self,
               const char     *key,
               GTask          *task)
{
  Request *request = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  GazeImage *image;
  Pending *pending;
  Waiter *waiter;

  g_assert (GAZE_IS_IMAGE_CACHE (self));
  g_assert (G_IS_TASK (task));

  if ((image = lookup (self, key)) != NULL)
    {
      g_task_return_pointer (task, g_object_ref (image), g_object_unref);
      g_object_unref (task);
      return;
    }

  if (!(pending = g_hash_table_lookup (self->pending, key)))
    pending = start_preparation (self, key, request);

  waiter = g_new0 (Waiter, 1);
  waiter->pending = pending;
  waiter->task = task;
  pending->waiters = g_list_append (pending->waiters, waiter);

  if (cancellable != NULL)
    {
      waiter->cancelled_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (waiter->cancelled_source,
                             G_SOURCE_FUNC (on_waiter_cancelled),
                             waiter, NULL);
      g_source_attach (waiter->cancelled_source, g_task_get_context (task));
    }
}

static void
on_uncached_prepared (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GazeImage) image = NULL;
  g_autoptr(GError) error = NULL;

  g_assert (G_IS_TASK (task));
  g_assert (G_IS_ASYNC_RESULT (result));

  if (!(image = gaze_image_prepare_finish (result, &error)))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, g_steal_pointer (&image), g_object_unref);
}

static void
on_file_info (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GazeImageCache *self = g_task_get_source_object (task);
  Request *request = g_task_get_task_data (task);
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *key = NULL;
  GCancellable *cancellable;
  guint64 size;
  guint64 modified;
  guint32 modified_usec;

  g_assert (GAZE_IS_IMAGE_CACHE (self));
  g_assert (G_IS_FILE (object));
  g_assert (G_IS_ASYNC_RESULT (result));

  if (!(info = g_file_query_info_finish (G_FILE (object), result, &error)))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }

      /* Without a size and a date there is no key; preparing the file
       * says what is wrong with it. */
      g_debug ("Not caching: %s", error->message);
      cancellable = g_task_get_cancellable (task);
      gaze_image_prepare_file_async (request->file, request->detail, cancellable,
                                     on_uncached_prepared, g_steal_pointer (&task));
      return;
    }

  uri = g_file_get_uri (request->file);
  size = g_file_info_get_attribute_uint64 (info, G_FILE_ATTRIBUTE_STANDARD_SIZE);
  modified = g_file_info_get_attribute_uint64 (info, G_FILE_ATTRIBUTE_TIME_MODIFIED);
  modified_usec = g_file_info_get_attribute_uint32 (info, G_FILE_ATTRIBUTE_TIME_MODIFIED_USEC);
  key = g_strdup_printf ("file %s\n%" G_GUINT64_FORMAT "\n%" G_GUINT64_FORMAT ".%06u\n%s",
                         uri,
                         size,
                         modified,
                         modified_usec,
                         gaze_detail_to_string (request->detail));

  prepare_keyed (self, key, g_steal_pointer (&task));
}

static void
hash_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  GBytes *bytes = task_data;

  g_assert (G_IS_TASK (task));
  g_assert (bytes != NULL);

  g_task_return_pointer (task, g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes), g_free);
}

static void
prepare_hashed (GazeImageCache *self,
                const char     *checksum,
                GTask          *task)
{
  Request *request = g_task_get_task_data (task);
  g_autofree char *key = NULL;

  g_assert (GAZE_IS_IMAGE_CACHE (self));
  g_assert (G_IS_TASK (task));

  key = g_strdup_printf ("bytes %s\n%s\n%s",
                         checksum, request->name, gaze_detail_to_string (request->detail));

  prepare_keyed (self, key, task);
}

static void
on_bytes_hashed (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GazeImageCache *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  g_autofree char *checksum = NULL;

  g_assert (GAZE_IS_IMAGE_CACHE (self));
  g_assert (G_IS_TASK (result));

  if (!(checksum = g_task_propagate_pointer (G_TASK (result), &error)))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  prepare_hashed (self, checksum, g_steal_pointer (&task));
}

/*
 * GazeImageCache
 */

static void
gaze_image_cache_dispose (GObject *object)
{
  GazeImageCache *self = (GazeImageCache *)object;

  g_assert (GAZE_IS_IMAGE_CACHE (self));

  evict_to (self, 0);

  G_OBJECT_CLASS (gaze_image_cache_parent_class)->dispose (object);
}

static void
gaze_image_cache_finalize (GObject *object)
{
  GazeImageCache *self = (GazeImageCache *)object;

  g_assert (GAZE_IS_IMAGE_CACHE (self));

  /* Each preparation holds a reference; none can be left. */
  g_assert (g_hash_table_size (self->pending) == 0);

  g_clear_pointer (&self->entries, g_hash_table_unref);
  g_clear_pointer (&self->pending, g_hash_table_unref);

  G_OBJECT_CLASS (gaze_image_cache_parent_class)->finalize (object);
}

static void
gaze_image_cache_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  GazeImageCache *self = GAZE_IMAGE_CACHE (object);

  switch (prop_id)
    {
    case PROP_MAX_SIZE:
      g_value_set_uint64 (value, self->max_size);
      break;

    case PROP_SIZE:
      g_value_set_uint64 (value, self->size);
      break;

    case PROP_N_IMAGES:
      g_value_set_uint (value, self->lru.length);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gaze_image_cache_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  GazeImageCache *self = GAZE_IMAGE_CACHE (object);

  switch (prop_id)
    {
    case PROP_MAX_SIZE:
      gaze_image_cache_set_max_size (self, g_value_get_uint64 (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gaze_image_cache_class_init (GazeImageCacheClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = gaze_image_cache_dispose;
  object_class->finalize = gaze_image_cache_finalize;
  object_class->get_property = gaze_image_cache_get_property;
  object_class->set_property = gaze_image_cache_set_property;

  /**
   * GazeImageCache:max-size:
   *
   * How many bytes the kept images may hold together.
   */
  properties[PROP_MAX_SIZE] =
    g_param_spec_uint64 ("max-size", NULL, NULL,
                         0, G_MAXSIZE, GAZE_IMAGE_CACHE_DEFAULT_MAX_SIZE,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT |
                          G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * GazeImageCache:size:
   *
   * How many bytes the kept images hold.
   */
  properties[PROP_SIZE] =
    g_param_spec_uint64 ("size", NULL, NULL,
                         0, G_MAXSIZE, 0,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_N_IMAGES] =
    g_param_spec_uint ("n-images", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
gaze_image_cache_init (GazeImageCache *self)
{
  self->entries = g_hash_table_new (g_str_hash, g_str_equal);
  self->pending = g_hash_table_new (g_str_hash, g_str_equal);
  g_queue_init (&self->lru);
  self->max_size = GAZE_IMAGE_CACHE_DEFAULT_MAX_SIZE;
}

/**
 * gaze_image_cache_new:
 * @max_size: how many bytes the kept images may hold together, such as
 *   %GAZE_IMAGE_CACHE_DEFAULT_MAX_SIZE
 *
 * Returns: (transfer full): an empty cache
 */
GazeImageCache *
gaze_image_cache_new (gsize max_size)
{
  return g_object_new (GAZE_TYPE_IMAGE_CACHE,
                       "max-size", (guint64) max_size,
                       NULL);
}

gsize
gaze_image_cache_get_max_size (GazeImageCache *self)
{
  g_return_val_if_fail (GAZE_IS_IMAGE_CACHE (self), 0);

  return self->max_size;
}

void
gaze_image_cache_set_max_size (GazeImageCache *self,
                               gsize           max_size)
{
  gsize old_size;
  guint old_n_images;

  g_return_if_fail (GAZE_IS_IMAGE_CACHE (self));

  if (self->max_size == max_size)
    return;

  old_size = self->size;
  old_n_images = self->lru.length;

  self->max_size = max_size;
  evict_to (self, max_size);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_SIZE]);
  notify_changes (self, old_size, old_n_images);
}

gsize
gaze_image_cache_get_size (GazeImageCache *self)
{
  g_return_val_if_fail (GAZE_IS_IMAGE_CACHE (self), 0);

  return self->size;
}

guint
gaze_image_cache_get_n_images (GazeImageCache *self)
{
  g_return_val_if_fail (GAZE_IS_IMAGE_CACHE (self), 0);

  return self->lru.length;
}

/**
 * gaze_image_cache_clear:
 * @self: a #GazeImageCache
 *
 * Drops every kept image. Preparations under way go on.
 */
void
gaze_image_cache_clear (GazeImageCache *self)
{
  gsize old_size;
  guint old_n_images;

  g_return_if_fail (GAZE_IS_IMAGE_CACHE (self));

  old_size = self->size;
  old_n_images = self->lru.length;

  evict_to (self, 0);

  notify_changes (self, old_size, old_n_images);
}

/**
 * gaze_image_cache_prepare_file_async:
 * @self: a #GazeImageCache
 * @file: an image file
 * @detail: the detail to prepare it for
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the image
 * @user_data: data for @callback
 *
 * Gets @file prepared for @detail: from the cache if it has not changed
 * since it was prepared, from a preparation under way if there is one, or
 * from a new one, which gaze_image_prepare_file_async() runs in a worker
 * thread. Cancelling stops this request; the preparation stops when no
 * request waits for it any more.
 */
void
gaze_image_cache_prepare_file_async (GazeImageCache      *self,
                                     GFile               *file,
                                     GazeDetail           detail,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Request *request;

  g_return_if_fail (GAZE_IS_IMAGE_CACHE (self));
  g_return_if_fail (G_IS_FILE (file));
  g_return_if_fail (gaze_detail_is_valid (detail));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  request = g_new0 (Request, 1);
  request->file = g_object_ref (file);
  request->detail = detail;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, gaze_image_cache_prepare_file_async);
  g_task_set_task_data (task, request, request_free);

  g_file_query_info_async (file,
                           FILE_ATTRIBUTES,
                           G_FILE_QUERY_INFO_NONE,
                           G_PRIORITY_DEFAULT,
                           cancellable,
                           on_file_info,
                           g_steal_pointer (&task));
}

/**
 * gaze_image_cache_prepare_bytes_async:
 * @self: a #GazeImageCache
 * @bytes: the contents of an image file
 * @name: the name to show for the image
 * @detail: the detail to prepare it for
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the image
 * @user_data: data for @callback
 *
 * Like gaze_image_cache_prepare_file_async(), for pasted or dropped data.
 * The same bytes with the same name are prepared once.
 */
void
gaze_image_cache_prepare_bytes_async (GazeImageCache      *self,
                                      GBytes              *bytes,
                                      const char          *name,
                                      GazeDetail           detail,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GTask) hash_task = NULL;
  Request *request;

  g_return_if_fail (GAZE_IS_IMAGE_CACHE (self));
  g_return_if_fail (bytes != NULL);
  g_return_if_fail (name != NULL);
  g_return_if_fail (gaze_detail_is_valid (detail));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  request = g_new0 (Request, 1);
  request->bytes = g_bytes_ref (bytes);
  request->name = g_strdup (name);
  request->detail = detail;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, gaze_image_cache_prepare_bytes_async);
  g_task_set_task_data (task, request, request_free);

  if (g_task_return_error_if_cancelled (task))
    return;

  if (g_bytes_get_size (bytes) <= HASH_IN_PLACE_SIZE)
    {
      g_autofree char *checksum = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);

      prepare_hashed (self, checksum, g_steal_pointer (&task));
      return;
    }

  /* Hashing a large photo takes a while: not on the main thread. */
  hash_task = g_task_new (NULL, cancellable, on_bytes_hashed, g_steal_pointer (&task));
  g_task_set_source_tag (hash_task, on_bytes_hashed);
  g_task_set_name (hash_task, "[gaze] hash image bytes");
  g_task_set_task_data (hash_task, g_bytes_ref (bytes), (GDestroyNotify) g_bytes_unref);
  g_task_run_in_thread (hash_task, hash_thread);
}

/**
 * gaze_image_cache_prepare_finish:
 * @self: a #GazeImageCache
 * @result: the result given to the callback
 * @error: a location for a #GError
 *
 * Returns: (transfer full): the prepared image, or %NULL with @error set
 */
GazeImage *
gaze_image_cache_prepare_finish (GazeImageCache  *self,
                                 GAsyncResult    *result,
                                 GError         **error)
{
  g_return_val_if_fail (GAZE_IS_IMAGE_CACHE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, gaze_image_cache_prepare_file_async) ||
                        g_async_result_is_tagged (result, gaze_image_cache_prepare_bytes_async),
                        NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
