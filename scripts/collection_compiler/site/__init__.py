"""The static HTML site of the collection: pages, thumbnails, search index, feed, built from the published tree."""

from collection_compiler.site.render import render_site

__all__ = ["render_site"]
