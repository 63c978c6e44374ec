"""Figure helpers shared by the analyzer (style, PNG rendering)."""

from .style import CLASS_COLORS, STYLE, add_caption, class_color, finish_axes, new_figure, to_png

__all__ = ["STYLE", "CLASS_COLORS", "class_color", "new_figure", "finish_axes", "to_png", "add_caption"]
