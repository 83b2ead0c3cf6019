"""A sphinx-gallery image scraper for tinyml.viz's figures.

tinyml.viz draws on matplotlib ``Figure`` objects of its own and never touches pyplot (so a
script that plots opens no window), which means sphinx-gallery's matplotlib scraper, which asks
pyplot for its figures, finds none. This one looks at the example's variables after each block
and saves every Figure it has not saved before, in the order they appear.
"""


from matplotlib.figure import Figure
from sphinx_gallery.scrapers import figure_rst

_SAVED = "_tinyml_saved_figures"


def figure_scraper(block, block_vars, gallery_conf):
    names = block_vars["example_globals"]
    saved = names.setdefault(_SAVED, set())
    new = [value for value in list(names.values())
           if isinstance(value, Figure) and id(value) not in saved]
    paths = []
    for figure, path in zip(new, block_vars["image_path_iterator"], strict=False):
        figure.savefig(path, dpi=figure.dpi)
        saved.add(id(figure))
        paths.append(path)
    return figure_rst(paths, gallery_conf["src_dir"])


def __repr__():  # sphinx-gallery's config cache compares scrapers by repr
    return "tinyml figure_scraper"


figure_scraper.__repr__ = __repr__
