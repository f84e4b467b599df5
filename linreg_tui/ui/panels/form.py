"""The parameter panel: every field of the run configuration, checked as it is typed.

The form is built from the one table of fields (`config.FIELDS`): a field with `choices` (or the
device, whose choices are the devices found) is a select, every other one a text input.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping

from textual import events
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.validation import ValidationResult, Validator
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static

from linreg_tui.run.config import FIELDS, ConfigError, Field, FieldError, RunConfig, parse_config
from linreg_tui.run.optimizers import BOOK_EPS, training_applies
from linreg_tui.run.parsing import Numbers
from linreg_tui.run.sources import BUILT_IN, applies, defaults_for, file_rows, kind_of
from linreg_tui.run.sweep import SweepPoint, expand, split_sweep
from linreg_tui.run.table_errors import TableError
from linreg_tui.ui.panels.presets_picker import PresetPicker

#: The select's options before the devices are known (CUDA is probed off the UI thread).
CPU_ONLY: list[tuple[str, str]] = [("cpu", "cpu"), ("auto", "auto")]
#: The one field that stays editable while a run trains: the run takes a new rate at its next chunk.
LIVE_FIELD = "lr"
#: A valid rate typed while a run trains is sent when typing pauses this long (or at once on Enter),
#: so that typing 0.15 does not set 0.1 on the way.
LR_SETTLE_SECONDS = 0.6
#: The data select's "file…": not a source, a request for the file prompt (no path can be this: NUL).
CHOOSE_FILE = "\x00choose a file"


class FieldValidator(Validator):
    """Runs the core's parser for one field, so the form and the command line say the same thing."""

    def __init__(self, field: Field) -> None:
        super().__init__()
        self.field = field

    def validate(self, value: str) -> ValidationResult:
        try:
            # A sweepable field may hold a comma-separated list (a sweep): each of its values is checked.
            _, swept = split_sweep({self.field.name: value})
            for text in swept.get(self.field.name, [value]):
                self.field.read(text)
        except ConfigError as error:
            return self.failure(str(error.errors[0]), value)
        return self.success()


class FieldInput(Input):
    """A text field of the form. Pasting several lines is said, not silently cut to the first line:
    a list field takes the lines as its comma-separated entries, any other field keeps the first."""

    class PastedLines(Message):
        def __init__(self, field: Field, count: int, joined: bool) -> None:
            super().__init__()
            self.field = field
            self.count = count
            self.joined = joined

    def __init__(self, field: Field, value: str) -> None:
        super().__init__(value, id=field.name, compact=True, validators=[FieldValidator(field)], tooltip=field.help)
        self.field = field

    def _on_paste(self, event: events.Paste) -> None:
        lines = [line.strip() for line in event.text.splitlines() if line.strip()]
        if len(lines) <= 1:
            return  # Input's own handler (dispatched after this one) inserts it
        event.prevent_default()  # Input's handler would insert the first line again
        event.stop()
        joined = isinstance(self.field.parse, Numbers)
        text = ", ".join(line.rstrip(",") for line in lines) if joined else lines[0]
        if self.selection.is_empty:
            self.insert_text_at_cursor(text)
        else:
            self.replace(text, *self.selection)
        self.post_message(self.PastedLines(self.field, len(lines), joined))


class ParamsPanel(Vertical):
    """Holds the form; reads it into a RunConfig or says which field is wrong and why."""

    DEFAULT_CSS = """
    ParamsPanel #param-grid {
        grid-size: 2;
        grid-columns: 10 1fr;  /* "reduction" and a space */
        grid-rows: 1;
        grid-gutter: 0;
        height: auto;
    }
    ParamsPanel .param-label {
        color: $text-muted;
    }
    /* The form's own mark: Input's -invalid is also written by Input's validators. */
    ParamsPanel Input.-refused, ParamsPanel Select.-refused {
        background: $error 30%;
    }
    ParamsPanel #device-note {
        color: $text-muted;
        height: auto;
        margin-top: 1;
    }
    ParamsPanel #form-message {
        color: $error;
        height: auto;
    }
    ParamsPanel #form-message.-note {
        color: $text-warning;
    }
    """

    BORDER_TITLE = "Parameters"

    class Changed(Message):
        """The form holds a valid configuration that differs from the last one announced."""

        def __init__(self, config: RunConfig) -> None:
            super().__init__()
            self.config = config

    class Refused(Message):
        """The form's values are refused (said under it); `source` is its data field's."""

        def __init__(self, source: str) -> None:
            super().__init__()
            self.source = source

    class FileWanted(Message):
        """The data select's "file…" was chosen: the screen asks for a file (confined; off in a browser
        without `serve --files DIR`) and hands it to `choose_file`."""

    class LearningRateChosen(Message):
        """A valid learning rate was typed into the form while a run trains: the run should take it."""

        def __init__(self, lr: float) -> None:
            super().__init__()
            self.lr = lr

    def __init__(
        self, config: RunConfig, devices: list[tuple[str, str]] | None = None, device_note: str = "CUDA: looking…"
    ) -> None:
        super().__init__(id="params")
        self.initial = config
        self.devices = devices or CPU_ONLY
        self.device_note = device_note
        self._announced: RunConfig | None = None
        self._focus_before: Widget | None = None
        self.running = False
        self._lr_timer: Timer | None = None
        #: The source the fields shown are for: the data select's, or the one it had before a change.
        self.shown_source = config.data

    def compose(self) -> ComposeResult:
        # Every field's widget, those that do not apply to the data hidden (see show_fields_for): a field
        # keeps its text while another source is chosen, and comes back with it.
        texts = {name: field.show(getattr(self.initial, name)) for name, field in FIELDS.items()}
        with Grid(id="param-grid"):
            yield Label("preset", classes="param-label")
            yield PresetPicker()
            for name, field in FIELDS.items():
                yield Label(field.short, classes="param-label", id=f"label-{name}")
                if name == "data":
                    yield Select(
                        self._source_options(self.initial.data),
                        value=texts[name],
                        allow_blank=False,
                        compact=True,
                        id=name,
                    )
                elif field.choices is not None:
                    options = [(choice, choice) for choice in field.choices]
                    yield Select(options, value=texts[name], allow_blank=False, compact=True, id=name)
                elif name == "device":
                    yield Select(
                        self._device_options(self.devices), value=texts[name], allow_blank=False, compact=True, id=name
                    )
                else:
                    yield FieldInput(field, texts[name])
        yield Static(self.device_note, id="device-note")
        yield Static("", id="form-message")
        with Horizontal(id="run-buttons"):
            yield Button("Run ^r", id="run", variant="primary", compact=True)
            yield Button("Stop esc", id="stop", variant="error", compact=True, disabled=True)

    def on_mount(self) -> None:
        self.show_fields_for(self.initial.data)

    @property
    def source(self) -> str:
        return str(self.query_one("#data", Select).value)

    @staticmethod
    def _source_options(chosen: str) -> list[tuple[str, str]]:
        """The built-in sources, the file chosen (a path) when there is one, and "file…" to choose one."""
        options = [(source, source) for source in BUILT_IN]
        if chosen not in BUILT_IN:
            options.append((os.path.basename(chosen) or chosen, chosen))
        options.append(("file…", CHOOSE_FILE))
        return options

    def choose_file(self, path: str) -> None:
        """A data file chosen in the file prompt: the form's source, its fields shown, its rows checked
        (a file that cannot be used is said under the form, as any refused field)."""
        self.set_texts({"data": path})
        self._announce()

    def show_fields_for(self, source: str) -> None:
        """Only the fields that mean something for data from `source`, the optimizer and the schedule
        chosen are shown (and read)."""
        self.shown_source = source
        for name in FIELDS:
            shown = self._applies(name, source)
            self.query_one(f"#{name}").display = shown
            self.query_one(f"#label-{name}").display = shown

    def _applies(self, name: str, source: str) -> bool:
        optimizer = str(self.query_one("#optimizer", Select).value)
        schedule = str(self.query_one("#schedule", Select).value)
        return applies(name, source) and training_applies(name, optimizer, schedule)

    def _source_changed(self, before: str, source: str) -> None:
        """Another source: its fields, and its defaults where it has its own (the ones the source left
        had changed go back to the table's)."""
        self.show_fields_for(source)
        changed = defaults_for(before).keys() | defaults_for(source).keys()
        values = {name: defaults_for(source).get(name, FIELDS[name].default) for name in changed}
        texts = {name: FIELDS[name].show(value) for name, value in values.items()}
        if kind_of(source) == "file":  # a file's run takes every row: the form says how many
            header = str(self.query_one("#header", Select).value)
            with contextlib.suppress(TableError, OSError):  # a file that cannot be read: said by _announce
                texts["num_examples"] = str(file_rows(source, header))
        self.set_texts(texts)

    def _device_options(self, devices: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The devices found, and the configured one even when it was not found (the run then says why)."""
        options = list(devices)
        if self.initial.device not in {value for _, value in options}:
            options.append((f"{self.initial.device} (not found)", self.initial.device))
        return options

    def set_devices(self, devices: list[tuple[str, str]], note: str) -> None:
        """The devices, once probed: keeps the chosen one."""
        select: Select[str] = self.query_one("#device", Select)
        chosen = select.value
        options = self._device_options(devices)
        select.set_options(options)
        values = {value for _, value in options}
        select.value = chosen if chosen in values else self.initial.device
        self.query_one("#device-note", Static).update(note)

    def texts(self) -> dict[str, str]:
        """The text of every field that applies to the chosen data, as the form holds it, by field name."""
        values: dict[str, str] = {}
        source = self.source
        for name in FIELDS:
            if not self._applies(name, source):
                continue
            widget = self.query_one(f"#{name}")
            values[name] = widget.value if isinstance(widget, Input) else str(widget.value)  # type: ignore[attr-defined]
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

    def read_points(self) -> list[SweepPoint]:
        """The form as the runs it asks for: one, or a sweep's when a sweepable field holds a
        comma-separated list. Raises ConfigError (and shows it) when a field or a point is wrong."""
        try:
            points = expand(self.texts())
        except ConfigError as error:
            self.show_errors(error.errors)
            raise
        self.show_errors([])
        return points

    def set_texts(self, texts: Mapping[str, str]) -> None:
        """Fill the form (a preset): each named field takes its text; the others keep theirs."""
        if (source := texts.get("data")) is not None and source != self.shown_source:
            select: Select[str] = self.query_one("#data", Select)
            select.set_options(self._source_options(source))
            select.value = source
            self._source_changed(self.shown_source, source)
        for name, text in texts.items():
            widget = self.query_one(f"#{name}")
            if isinstance(widget, Input | Select) and name != "data":
                widget.value = text

    def show_errors(self, errors: list[FieldError], focus: bool = True) -> None:
        """Mark each refused field and say, under the form, what is wrong with the first."""
        bad = {error.field for error in errors}
        for name in FIELDS:
            self.query_one(f"#{name}").set_class(name in bad, "-refused")
        text = str(errors[0]) + (f" (+{len(errors) - 1} more)" if len(errors) > 1 else "") if errors else ""
        self._say(text)
        if focus and errors:
            self.query_one(f"#{errors[0].field}").focus()

    def _say(self, text: str, note: bool = False) -> None:
        message = self.query_one("#form-message", Static)
        message.update(text)
        message.set_class(note, "-note")

    def set_running(self, running: bool) -> None:
        """The form is locked while a run trains on it, except the learning rate, which the run takes
        as it goes (see `LearningRateChosen`); Stop is the only button that works then.

        Focus moves to Stop (escape works anywhere anyway) and back to the field it left: a disabled
        field that keeps the focus goes on blinking its cursor, a repaint twice a second."""
        stop = self.query_one("#stop", Button)
        self.running = running
        self._stop_lr_timer()
        # The focus moves first, at once (Widget.focus waits a turn): a disabled field that holds the
        # focus hands it to the next one, which is disabled next, and each hop rebuilt the footer (20 of
        # them: a second of the GIL that the training thread, starting, needs).
        if running:
            self._focus_before = self.app.focused
            stop.disabled = False
            self.screen.set_focus(stop)
        for name in FIELDS:
            if name != LIVE_FIELD:
                self.query_one(f"#{name}").disabled = running
        self.query_one(PresetPicker).disabled = running
        self.query_one("#run", Button).disabled = running
        if not running:
            if self._focus_before is not None and self._focus_before.is_attached:
                self.screen.set_focus(self._focus_before)
            stop.disabled = True

    def on_field_input_pasted_lines(self, message: FieldInput.PastedLines) -> None:
        if message.joined:
            said = f"{message.field.label}: pasted {message.count} lines as {message.count} comma-separated entries"
        else:
            said = f"{message.field.label}: pasted {message.count} lines; kept the first, the field takes one value"
        self.call_after_refresh(self._say, said, True)  # after the change the paste makes has been checked

    def on_input_changed(self, event: Input.Changed) -> None:
        live_lr = self.running and event.input.id == LIVE_FIELD
        if live_lr:
            self._stop_lr_timer()  # the value it would send is no longer the field's
        if event.validation_result is not None and not event.validation_result.is_valid:
            event.input.add_class("-refused")
            self._say(event.validation_result.failure_descriptions[0])
            return
        self._announce()
        if live_lr:
            self._lr_timer = self.set_timer(LR_SETTLE_SECONDS, self._choose_lr)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the learning rate while a run trains: send it now, or say again why it is refused."""
        if self.running and event.input.id == LIVE_FIELD:
            event.stop()
            self._stop_lr_timer()
            self._choose_lr()

    def _choose_lr(self) -> None:
        self._lr_timer = None
        # Adadelta has no learning rate: its field is hidden, and a rate typed there anyway is not sent.
        if not self.running or not self._applies(LIVE_FIELD, self.shown_source):
            return
        try:
            lr = FIELDS[LIVE_FIELD].read(self.query_one(f"#{LIVE_FIELD}", Input).value)
        except ConfigError as error:
            self.show_errors(error.errors, focus=False)  # the same one line as while typing; nothing changes
            return
        self.post_message(self.LearningRateChosen(lr))

    def _stop_lr_timer(self) -> None:
        if self._lr_timer is not None:
            self._lr_timer.stop()
            self._lr_timer = None

    def note(self, text: str) -> None:
        """A line under the form that is not a refusal (a warning about a valid value)."""
        self._say(text, note=True)

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "data" and event.value == CHOOSE_FILE:
            event.select.value = self.shown_source  # until a file is chosen, the source stays
            self.post_message(self.FileWanted())
            return
        if event.select.id == "data" and event.value != self.shown_source:
            self._source_changed(self.shown_source, str(event.value))
        elif event.select.id in ("optimizer", "schedule"):
            if event.select.id == "optimizer" and (eps := BOOK_EPS.get(str(event.value))) is not None:
                self.query_one("#eps", Input).value = FIELDS["eps"].show(eps)  # each optimizer's own ε
            self.show_fields_for(self.shown_source)
        self._announce()

    def _announce(self) -> None:
        """The whole form is checked again (a field can be wrong because of another, as a batch larger
        than the examples): marks that no longer apply go, new ones show."""
        try:
            points = expand(self.texts())
        except ConfigError as error:
            self.show_errors(error.errors, focus=False)
            self.border_subtitle = ""
            self.post_message(self.Refused(self.source))
            return
        self.show_errors([], focus=False)
        # A sweep is said on the form's border: the line under the form is for refusals and warnings.
        self.border_subtitle = f"sweep: {len(points)} runs" if len(points) > 1 else ""
        config = points[0].config
        if config != self._announced:
            self._announced = config
            self.post_message(self.Changed(config))
