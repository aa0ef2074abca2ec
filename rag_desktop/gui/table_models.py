"""Qt table/list models over plain Python lists of the core's dataclasses (napari style)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QCoreApplication,
    QLocale,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor

from rag_desktop.gui.i18n import QT_TRANSLATE_NOOP

T = TypeVar("T")
Index = QModelIndex | QPersistentModelIndex
SORT_ROLE = Qt.ItemDataRole.UserRole + 1  # the raw value, so numbers sort as numbers
ROW_ROLE = Qt.ItemDataRole.UserRole + 2  # the whole record
ERROR_COLOR = QColor("#b3261e")


HEADER_CONTEXT = "Column"  # headers: marked QT_TRANSLATE_NOOP("Column", …), translated when shown
# Cells of boolean fields, in the headers' context.
BOOLEANS = (QT_TRANSLATE_NOOP("Column", "True"), QT_TRANSLATE_NOOP("Column", "False"))


def header_text(header: str) -> str:
    """A column header in the UI's language (a field name without a translation as it is)."""
    return QCoreApplication.translate(HEADER_CONTEXT, header)


@dataclass(frozen=True)
class Column(Generic[T]):
    """One column: a header (English; shown translated), how to read the value from a record,
    and how to show it."""

    header: str
    value: Callable[[T], Any]
    fmt: Callable[[Any], str] = str
    tooltip: Callable[[T], str] | None = None


def fmt_float(digits: int = 3) -> Callable[[Any], str]:
    """A formatter for floats with `digits` decimals in the UI's locale; None is empty."""
    return lambda v: "" if v is None else QLocale().toString(float(v), "f", digits)


class RecordTableModel(QAbstractTableModel, Generic[T]):
    """A read-only table over a list of records; the list is plain Python and knows no Qt."""

    def __init__(self, columns: Sequence[Column[T]], rows: Sequence[T] = ()) -> None:
        super().__init__()
        self._columns = list(columns)
        self._rows: list[T] = list(rows)
        self.is_error: Callable[[T], bool] = lambda _row: False

    @property
    def rows(self) -> list[T]:
        """A copy of the records."""
        return list(self._rows)

    def set_rows(self, rows: Sequence[T]) -> None:
        """Replace every record."""
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def append(self, row: T) -> None:
        """Add one record at the end."""
        n = len(self._rows)
        self.beginInsertRows(QModelIndex(), n, n)
        self._rows.append(row)
        self.endInsertRows()

    def record(self, row: int) -> T:
        """The record shown on `row`."""
        return self._rows[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        """Number of records (0 under any parent: this is a flat table)."""
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """Number of columns."""
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Display text, raw sort value, tooltip, error colour or the record itself."""
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        record, column = self._rows[index.row()], self._columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.fmt(column.value(record))
        if role == SORT_ROLE:
            value = column.value(record)
            return value if isinstance(value, int | float | str) else str(value)
        if role == Qt.ItemDataRole.ToolTipRole and column.tooltip is not None:
            return column.tooltip(record)
        if role == Qt.ItemDataRole.ForegroundRole and self.is_error(record):
            return QBrush(ERROR_COLOR)
        if role == ROW_ROLE:
            return record
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column headers in the UI's language (the tooltip names a translated field as the
        CSV files do); row numbers on the vertical header."""
        if orientation == Qt.Orientation.Vertical:
            return str(section + 1) if role == Qt.ItemDataRole.DisplayRole else None
        if not 0 <= section < len(self._columns):
            return None
        header = self._columns[section].header
        if role == Qt.ItemDataRole.DisplayRole:
            return header_text(header)
        if role == Qt.ItemDataRole.ToolTipRole and header_text(header) != header:
            return header
        return None


class CheckableListModel(QAbstractListModel):
    """A list of (key, label) items, each with a check box; used to pick models to evaluate."""

    def __init__(self, items: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__()
        self._items = list(items)
        self._checked: set[str] = set()
        self._disabled: set[str] = set()

    def set_items(self, items: Sequence[tuple[str, str]], disabled: set[str] | None = None) -> None:
        """Replace the items; keys that are still listed keep their check."""
        self.beginResetModel()
        self._items = list(items)
        self._disabled = set(disabled or ())
        keys = {k for k, _ in self._items}
        self._checked &= keys - self._disabled
        self.endResetModel()

    def checked(self) -> list[str]:
        """Checked keys, in list order."""
        return [k for k, _ in self._items if k in self._checked]

    def set_checked(self, keys: Sequence[str]) -> None:
        """Check exactly these keys (those that are listed and enabled)."""
        self._checked = {k for k, _ in self._items if k in keys and k not in self._disabled}
        if self._items:
            self.dataChanged.emit(self.index(0), self.index(len(self._items) - 1))

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """Number of items."""
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Label, check state, or key (UserRole)."""
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        key, label = self._items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return label
        if role == Qt.ItemDataRole.CheckStateRole:
            checked = key in self._checked
            return Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.UserRole:
            return key
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        """Checkable and selectable; items that cannot run are disabled."""
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        key = self._items[index.row()][0]
        base = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsUserCheckable
        return base if key in self._disabled else base | Qt.ItemFlag.ItemIsEnabled

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        """Toggle a check box."""
        if not index.isValid() or role != Qt.ItemDataRole.CheckStateRole:
            return False
        key = self._items[index.row()][0]
        if key in self._disabled:
            return False
        state = Qt.CheckState(value) if isinstance(value, int) else value
        if state == Qt.CheckState.Checked:
            self._checked.add(key)
        else:
            self._checked.discard(key)
        self.dataChanged.emit(index, index, [role])
        return True


def scalar_columns(record_type: Any, digits: int = 3) -> list[Column[Any]]:
    """Columns for every scalar field of a dataclass type (used for evaluation rows)."""
    if not is_dataclass(record_type):
        return []
    columns: list[Column[Any]] = []
    for f in fields(record_type):
        name = f.name

        def getter(r: Any, name: str = name) -> Any:
            return getattr(r, name)

        kind = str(f.type)
        fmt = fmt_float(digits) if "float" in kind else _plain
        columns.append(Column(name, getter, fmt))
    return columns


def _plain(value: Any) -> str:
    """Cell text for any value; None is empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return header_text("True") if value else header_text("False")
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)
