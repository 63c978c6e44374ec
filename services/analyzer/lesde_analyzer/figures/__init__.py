"""Every analyzer figure: one style (:mod:`.style`) and one module per product
(:mod:`.experiments`, :mod:`.simulations`, :mod:`.sweeps`). Figures take computed results and
return matplotlib Figures, saved as PNG, SVG or PDF by :mod:`.formats`; they import no
product at run time, the products import them."""

from .style import CLASS_COLORS, STYLE, add_caption, class_color, finish_axes, new_figure, to_png

__all__ = ["STYLE", "CLASS_COLORS", "class_color", "new_figure", "finish_axes", "to_png", "add_caption"]
