"""Admin forms: API keys are write-only, URLs are checked with messages a person can act on."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from connectors.models import (
    DEFAULT_AC_RATE,
    DEFAULT_EVENT_TRACKING_RATE,
    PLAN_RATES,
    ActiveCampaignAccount,
    BrevoAccount,
    Connection,
)
from connectors.validators import normalize_ac_api_url, normalize_brevo_api_url, validate_api_key


class SecretKeyFormMixin(forms.ModelForm):
    """The key is typed, never shown: an empty box on an existing account keeps the stored key."""

    service_name = "API"
    api_key = forms.CharField(
        label="API key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.api_key:
            help_text = (
                f"Stored key: {self.instance.api_key_masked}. "
                "Leave empty to keep it; type a new key to replace it."
            )
        else:
            help_text = "Stored encrypted; shown afterwards only as its last 4 characters."
        self.fields["api_key"].help_text = help_text

    def clean_api_key(self) -> str:
        typed = self.cleaned_data.get("api_key") or ""
        if not typed and self.instance.pk and self.instance.api_key:
            return self.instance.api_key
        return validate_api_key(typed, service=self.service_name)


class ActiveCampaignAccountForm(SecretKeyFormMixin):
    service_name = "ActiveCampaign"

    class Meta:
        model = ActiveCampaignAccount
        fields = [
            "tenant",
            "name",
            "api_url",
            "api_key",
            "plan",
            "requests_per_second",
            "event_tracking_rate",
        ]
        widgets = {
            "api_url": forms.TextInput(attrs={"size": 50, "placeholder": "https://yourcompany.api-us1.com"})
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Our own rules: URLField would reject sandbox URLs (http://127.0.0.1) with a vaguer message.
        self.fields["api_url"] = forms.CharField(
            label="API URL",
            max_length=300,
            help_text=ActiveCampaignAccount._meta.get_field("api_url").help_text,
        )
        if "event_tracking_rate" in self.fields:
            self.fields["event_tracking_rate"].required = False
        if "requests_per_second" in self.fields:
            self.fields["requests_per_second"].required = False
            if not self.instance.pk:
                self.initial["requests_per_second"] = None
            rate_help = (
                "Empty: 5 a second, ActiveCampaign's limit on every plan. Enter more only if "
                "ActiveCampaign raised this account's limit; Tajo never paces above the limit "
                "ActiveCampaign announces."
            )
            self.fields["requests_per_second"].help_text = rate_help

    def clean_api_url(self) -> str:
        return normalize_ac_api_url(
            self.cleaned_data.get("api_url", ""), allow_private=settings.TAJO_ALLOW_PRIVATE_URLS
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        plan = data.get("plan")
        if plan and plan not in PLAN_RATES:
            self.add_error("plan", f"Unknown plan '{plan}'. Choose Lite, Plus, Professional or Enterprise.")
        if data.get("event_tracking_rate") in (None, ""):
            data["event_tracking_rate"] = DEFAULT_EVENT_TRACKING_RATE
        tracking = data.get("event_tracking_rate")
        if tracking is not None and not 0 < tracking <= 100:
            self.add_error("event_tracking_rate", "Enter a rate between 0 and 100 requests per second.")
        rate = data.get("requests_per_second")
        if rate in (None, ""):
            data["requests_per_second"] = DEFAULT_AC_RATE
        elif not 0 < rate <= 100:
            self.add_error("requests_per_second", "Enter a rate between 0 and 100 requests per second.")
        return data


class BrevoAccountForm(SecretKeyFormMixin):
    service_name = "Brevo"

    class Meta:
        model = BrevoAccount
        fields = ["tenant", "name", "api_url", "api_key", "budget"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["api_url"] = forms.CharField(
            label="API URL",
            max_length=300,
            initial="https://api.brevo.com/v3",
            help_text="Brevo's v3 API; change only for a proxy or a test server.",
        )

    def clean_api_url(self) -> str:
        return normalize_brevo_api_url(
            self.cleaned_data.get("api_url", ""), allow_private=settings.TAJO_ALLOW_PRIVATE_URLS
        )


class ConnectionForm(forms.ModelForm):
    """The connection's own checks; the same rules the API applies (connectors/api/services.py)."""

    class Meta:
        model = Connection
        fields = "__all__"  # the admin's fieldsets choose what is shown  # noqa: DJ007

    def clean_default_phone_country(self) -> str:
        import phonenumbers

        value = (self.cleaned_data.get("default_phone_country") or "").strip().upper()
        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise forms.ValidationError(
                f"'{value}' is not an ISO 3166 two-letter country code (for example DE, FR, US)."
            )
        return value

    def clean_tags_attribute(self) -> str:
        from mappings.compat import NEW_ATTRIBUTE_RE

        value = (self.cleaned_data.get("tags_attribute") or "").strip().upper()
        if value and not NEW_ATTRIBUTE_RE.fullmatch(value):
            raise forms.ValidationError(
                f"'{value}' is not a Brevo attribute name (capital letters, digits and _, starting with a "
                "letter, at most 50 characters); leave it empty for none."
            )
        return value
