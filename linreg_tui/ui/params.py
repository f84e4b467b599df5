"""The parameter panel: every field of the run configuration, checked as it is typed."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.validation import ValidationResult, Validator
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static

from linreg_tui.config import IMPLS, ConfigError, FieldError, RunConfig, parse_config, parse_field

#: (field, label) in the order of the form; impl and device are selects, the rest inputs.
INPUT_FIELDS: tuple[tuple[str, str], ...] = (
    ("true_w", "w"),
    ("true_b", "b"),
    ("num_examples", "examples"),
    ("noise", "noise"),
    ("batch_size", "batch"),
    ("lr", "lr"),
    ("epochs", "epochs"),
)
SELECT_FIELDS: tuple[tuple[str, str], ...] = (("impl", "impl"), ("device", "device"))
HINTS: dict[str, str] = {
    "true_w": "true weights, comma-separated: one per feature",
    "true_b": "true bias",
    "num_examples": "number of examples (1e6 works)",
    "noise": "standard deviation of the label noise (the book: 0.01)",
    "batch_size": "minibatch size",
    "lr": "learning rate",
    "epochs": "passes over the data",
    "seed": "seed of the run's one random generator",
}


class FieldValidator(Validator):
    """Runs the core's parser for one field, so the form and the command line say the same thing."""

    def __init__(self, field: str) -> None:
        super().__init__()
        self.field = field

    def validate(self, value: str) -> ValidationResult:
        try:
            parse_field(self.field, value)
        except ConfigError as error:
            return self.failure(str(error.errors[0]), value)
        return self.success()


class ParamsPanel(Vertical):
    """Holds the form; reads it into a RunConfig or says which field is wrong and why."""

    BORDER_TITLE = "Parameters"

    class Changed(Message):
        """The form holds a valid configuration that differs from the last one announced."""

        def __init__(self, config: RunConfig) -> None:
            super().__init__()
            self.config = config

    def __init__(self, config: RunConfig, devices: list[tuple[str, str]], device_note: str) -> None:
        super().__init__(id="params")
        self.initial = config
        self.devices = devices
        self.device_note = device_note
        self._announced: RunConfig | None = None
        self._focus_before: Widget | None = None

    def compose(self) -> ComposeResult:
        texts = self.initial.as_texts()
        with Grid(id="param-grid"):
            for field, label in INPUT_FIELDS:
                yield Label(label, classes="param-label")
                yield self._input(field, texts[field])
            yield Label("impl", classes="param-label")
            yield Select(
                [(impl, impl) for impl in IMPLS], value=self.initial.impl, allow_blank=False, compact=True, id="impl"
            )
            yield Label("device", classes="param-label")
            options = list(self.devices)
            if self.initial.device not in {value for _, value in options}:
                options.append((f"{self.initial.device} (not found)", self.initial.device))
            yield Select(options, value=self.initial.device, allow_blank=False, compact=True, id="device")
            yield Label("seed", classes="param-label")
            yield self._input("seed", texts["seed"])
        yield Static(self.device_note, id="device-note")
        yield Static("", id="form-message")
        with Horizontal(id="run-buttons"):
            yield Button("Run ^r", id="run", variant="primary", compact=True)
            yield Button("Stop esc", id="stop", variant="error", compact=True, disabled=True)

    def _input(self, field: str, value: str) -> Input:
        return Input(value, id=field, compact=True, validators=[FieldValidator(field)], tooltip=HINTS[field])

    def texts(self) -> dict[str, str]:
        values = {field: self.query_one(f"#{field}", Input).value for field, _ in (*INPUT_FIELDS, ("seed", ""))}
        for field, _ in SELECT_FIELDS:
            values[field] = str(self.query_one(f"#{field}", Select).value)
        return values

    def read_config(self) -> RunConfig:
        """The form as a RunConfig. Raises ConfigError (and shows it) when a field is wrong."""
        try:
            config = parse_config(self.texts())
        except ConfigError as error:
            self.show_errors(error.errors)
            raise
        self.show_errors([])
        return config

    def show_errors(self, errors: list[FieldError], focus: bool = True) -> None:
        """Mark each refused field and say, under the form, what is wrong with the first."""
        bad = {error.field for error in errors}
        for widget in self.query(Input):
            widget.set_class(widget.id in bad, "-invalid")
        for widget in self.query(Select):
            widget.set_class(widget.id in bad, "-invalid")
        message = self.query_one("#form-message", Static)
        message.update(str(errors[0]) + (f" (+{len(errors) - 1} more)" if len(errors) > 1 else "") if errors else "")
        if focus and errors and (first := self.query(f"#{errors[0].field}")):
            first.first().focus()

    def set_running(self, running: bool) -> None:
        """The form is locked while a run trains on it; Stop is the only button that works then.

        Focus moves to Stop (escape works anywhere anyway) and back to the field it left: a disabled
        field that keeps the focus goes on blinking its cursor, a repaint twice a second."""
        if running:
            self._focus_before = self.app.focused
        self.query_one("#param-grid").disabled = running
        self.query_one("#run", Button).disabled = running
        self.query_one("#stop", Button).disabled = not running
        self.set_class(running, "-running")
        if running:
            self.query_one("#stop", Button).focus()
        elif self._focus_before is not None and self._focus_before.is_attached:
            self._focus_before.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        message = self.query_one("#form-message", Static)
        if event.validation_result is not None and not event.validation_result.is_valid:
            message.update(event.validation_result.failure_descriptions[0])
            return
        message.update("")
        self._announce()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.control.remove_class("-invalid")
        self._announce()

    def _announce(self) -> None:
        """The whole form is checked again (a field can be wrong because of another, as a batch larger
        than the examples): marks that no longer apply go, new ones show."""
        try:
            config = parse_config(self.texts())
        except ConfigError as error:
            self.show_errors(error.errors, focus=False)
            return
        self.show_errors([], focus=False)
        if config != self._announced:
            self._announced = config
            self.post_message(self.Changed(config))
