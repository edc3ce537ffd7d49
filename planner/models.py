"""Nightly capacity reports, kept as history so run-out dates can be forecast."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from racks.models import Site


class CapacityReport(models.Model):
    """One report per site and day; a rerun on the same day replaces it (unique site + day)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="capacity_reports")
    day = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    it_load_kw = models.FloatField(default=0.0)
    power_capacity_kw = models.FloatField(null=True, blank=True)
    air_heat_kw = models.FloatField(default=0.0)
    liquid_heat_kw = models.FloatField(default=0.0)
    rack_count = models.PositiveIntegerField(default=0)
    node_count = models.PositiveIntegerField(default=0)
    data = models.JSONField(default=dict, help_text="Full snapshot: headroom, changes, forecast, risks.")
    summary = models.JSONField(
        default=dict,
        blank=True,
        help_text="Small digest: per-dimension totals (history for the forecast), run-out days, risk counts.",
    )

    class Meta:
        ordering = ["-day", "site_id"]
        constraints = [models.UniqueConstraint(fields=["site", "day"], name="planner_report_one_per_site_day")]
        indexes = [models.Index(fields=["site", "-day"], name="planner_report_site_day")]

    def __str__(self) -> str:
        return f"{self.site} {self.day}"


class ImportJob(models.Model):
    """A site import run in the background (``POST /api/v1/sites/import/``), from queued to its result.

    ``document`` keeps the uploaded export document (zlib-compressed JSON, checked against ``document_sha256``)
    so a retried task re-runs exactly what was uploaded; it is never served back. Progress (``done`` of
    ``total`` in ``phase``) is written while the import runs from outside the import's own transaction
    (:mod:`planner.import_jobs`); ``result`` and ``errors`` are set once, when the job finishes.
    """

    class Kind(models.TextChoices):
        SITE = "site", "Site import"
        NETBOX = "netbox", "NetBox import"

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.SITE)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="import_jobs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="Times a worker started the job (retries count).")
    options = models.JSONField(default=dict, blank=True, help_text="Import options: name, slug, as_is.")
    document = models.BinaryField(editable=False, help_text="The uploaded document, zlib-compressed JSON.")
    document_sha256 = models.CharField(max_length=64, editable=False)
    secret = models.TextField(
        blank=True,
        default="",
        editable=False,
        help_text="NetBox jobs: the API token, Fernet-encrypted with a key derived from SECRET_KEY; wiped when the "
        "job finishes. Never served.",
    )
    document_bytes = models.PositiveBigIntegerField(default=0, help_text="Size of the uploaded document (bytes).")
    phase = models.CharField(max_length=40, blank=True, default="")
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.SET_NULL, related_name="import_jobs")
    result = models.JSONField(default=dict, blank=True, help_text="On success: site, counts, created node models.")
    errors = models.JSONField(
        default=dict, blank=True, help_text="On failure: detail, path and errors, as the synchronous import gave them."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "-created_at"], name="planner_importjob_user_created")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk} ({self.status})"


class Reservation(models.Model):
    """What a committed feasibility plan holds: planned nodes, installed or released together as a set.

    ``idempotency_key`` (the ``Idempotency-Key`` header, per user): a retry within
    ``IDEMPOTENCY_WINDOW`` returns this reservation instead of reserving again; the unique constraint makes two
    parallel identical commits reserve once.
    """

    class Status(models.TextChoices):
        HELD = "held", "held"
        INSTALLED = "installed", "installed"
        RELEASED = "released", "released"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="reservations")
    model = models.ForeignKey("racks.NodeModel", on_delete=models.PROTECT, related_name="reservations")
    quantity = models.PositiveIntegerField(help_text="Units reserved (placed), not the units requested.")
    requested = models.PositiveIntegerField(default=0, help_text="Units the order asked for.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.HELD)
    nodes = models.ManyToManyField("racks.Node", related_name="reservations", blank=True)
    created_by = models.ForeignKey(
        "auth.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="reservations"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    node_ids = models.JSONField(
        default=list,
        blank=True,
        help_text="Ids of the nodes it reserved: their audit trail stays readable after a release deletes them.",
    )
    history = HistoricalRecords(excluded_fields=["idempotency_key"])

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="planner_reservation_one_per_key",
            )
        ]

    def __str__(self) -> str:
        return f"Reservation {self.pk}: {self.quantity} x {self.model_id} at {self.site_id} ({self.status})"


# --- the AI-factory layer (issue 17) ----------------------------------------------------------------------

REFERENCE_WORKLOADS = {
    # MLPerf Inference benchmarks of reference §12.1 (the ``reference_workload`` keys)
    "llama2-70b": "Llama 2 70B",
    "llama3.1-405b": "Llama 3.1 405B",
    "deepseek-r1": "DeepSeek-R1 (671B MoE)",
    "mixtral-8x7b": "Mixtral 8x7B",
    "llama3.1-8b": "Llama 3.1 8B",
}


class Scenario(models.TextChoices):
    """MLPerf scenarios (reference §12.1): Server/Interactive are latency-bounded, Offline is not."""

    OFFLINE = "offline", "Offline"
    SERVER = "server", "Server"
    INTERACTIVE = "interactive", "Interactive"


class ThroughputBasis(models.Model):
    """Tokens/s of one system (a node model) on a reference workload: an MLPerf result (round, submitter,
    scenario, system as the source; reference §12.2) or a value the user measured."""

    class Kind(models.TextChoices):
        MLPERF = "mlperf", "MLPerf result"
        MEASURED = "measured", "Measured by the user"

    model = models.ForeignKey("racks.NodeModel", on_delete=models.CASCADE, related_name="throughput_bases")
    reference_workload = models.CharField(max_length=32, choices=[(k, v) for k, v in REFERENCE_WORKLOADS.items()])
    scenario = models.CharField(max_length=12, choices=Scenario.choices, default=Scenario.SERVER)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.MEASURED)
    tokens_per_s_per_system = models.FloatField(
        validators=[MinValueValidator(0.0)], help_text="Tokens/s of one system of the model."
    )
    mlperf_round = models.CharField(max_length=16, blank=True, default="", help_text="e.g. v5.1; empty if measured.")
    round_date = models.DateField(null=True, blank=True, help_text="Publication date of the round or measurement.")
    submitter = models.CharField(max_length=64, blank=True, default="")
    system = models.CharField(max_length=120, blank=True, default="", help_text="MLPerf system folder, or rig.")
    system_gpus = models.PositiveIntegerField(null=True, blank=True, help_text="GPUs of the submitted system.")
    system_tokens_per_s = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.0)], help_text="Tokens/s of the submitted system."
    )
    source = models.TextField(blank=True, default="", help_text="Source tag and arithmetic.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["model_id", "reference_workload", "scenario", "-round_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(tokens_per_s_per_system__gte=0), name="planner_throughput_tokens_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model_id} {self.reference_workload} {self.scenario}: {self.tokens_per_s_per_system:g} tok/s"


class Workload(models.Model):
    """A training, fine-tuning or inference workload: its size and its SLOs (DESIGN "The AI-factory layer")."""

    class Kind(models.TextChoices):
        TRAINING = "training", "Training"
        FINE_TUNING = "fine_tuning", "Fine-tuning"
        INFERENCE = "inference", "Inference"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.INFERENCE)
    model = models.ForeignKey("racks.NodeModel", on_delete=models.PROTECT, related_name="workloads")
    quantity = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)], help_text="Systems; or give target tokens/s."
    )
    target_tokens_per_s = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.0)], help_text="Tokens/s on the reference workload."
    )
    reference_workload = models.CharField(
        max_length=32,
        blank=True,
        default="llama2-70b",
        choices=[(k, v) for k, v in REFERENCE_WORKLOADS.items()],
        help_text="MLPerf benchmark the throughput is measured on (reference §12).",
    )
    scenario = models.CharField(max_length=12, choices=Scenario.choices, default=Scenario.SERVER)
    availability_target_pct = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0), MaxValueValidator(100.0)],
        help_text="e.g. 99.982 (Tier III, reference §13.1); empty = none.",
    )
    latency_p99_ms = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0)],
        help_text="p99 network round trip from its users, ms; empty = none.",
    )
    user_regions = models.JSONField(
        default=list, blank=True, help_text='[{"name", "latitude", "longitude", "share"}], shares summing to 1.'
    )
    residency = models.JSONField(
        default=list, blank=True, help_text="Allowed jurisdictions (ISO 3166-1 alpha-2); empty = anywhere."
    )
    growth_pct_per_quarter = models.FloatField(
        default=0.0, validators=[MinValueValidator(0.0), MaxValueValidator(1000.0)], help_text="Growth, % per quarter."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__isnull=False) | models.Q(target_tokens_per_s__isnull=False),
                name="planner_workload_has_size",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        from planner.validation import region_errors, residency_errors

        errors: dict[str, list[str]] = {}
        if (self.quantity is None) == (self.target_tokens_per_s is None):
            errors["quantity"] = ["Give either quantity (systems) or target_tokens_per_s, not both."]
        if self.target_tokens_per_s is not None and not self.reference_workload:
            errors["reference_workload"] = ["A target in tokens/s needs the reference workload it is measured on."]
        if problems := region_errors(self.user_regions):
            errors["user_regions"] = problems
        if problems := residency_errors(self.residency):
            errors["residency"] = problems
        if errors:
            raise ValidationError(errors)
