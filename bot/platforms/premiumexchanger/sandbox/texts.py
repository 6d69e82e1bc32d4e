"""Localized texts (API-LANG `ru_RU` -> Russian, anything else -> English) and status titles.

API error texts ("Api disabled", "no bid exists", ...) are never localized: the real server
sends them in English whatever API-LANG says. The maintenance text is the exception: it is the site's
own text, by default the localized word.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class T:
    """A text in both languages."""

    en: str
    ru: str

    def __call__(self, lang: str) -> str:
        return self.ru if lang == "ru" else self.en


def lang_of(header: str | None) -> str:
    return "ru" if (header or "").strip().lower().startswith("ru") else "en"


def locale_of(lang: str) -> str:
    return "ru_RU" if lang == "ru" else "en_US"


STATUS_TITLES: dict[str, T] = {
    "coldnew": T("Application pending verification", "Заявка ожидает проверки"),
    "new": T("Accepted, waiting to be paid", "Принята, ожидает оплаты"),
    "techpay": T("How to make payment", "Как оплатить"),
    "payed": T("Order is paid (confirmation from client)", "Оплачена (подтверждение клиента)"),
    "coldpay": T("Waiting for merchant confirmation", "Ожидает подтверждения мерчанта"),
    "partpay": T("Partial paid", "Частично оплачена"),
    "realpay": T("Order is paid", "Оплачена"),
    "verify": T("Order is on checking", "На проверке"),
    "amlwait": T("Waiting for AML check", "Ожидает AML-проверки"),
    "amlerror": T("AML check failed", "AML-проверка не пройдена"),
    "merchwait": T("Waiting for merchant details", "Ожидает реквизитов мерчанта"),
    "mercherror": T("Merchant error", "Ошибка мерчанта"),
    "coldsuccess": T("Waiting for payout confirmation", "Ожидает подтверждения выплаты"),
    "partpayout": T("Partial payout", "Частичная выплата"),
    "payouterror": T("Auto payout error", "Ошибка автовыплаты"),
    "scrpayerror": T("Auto payout error", "Ошибка автовыплаты"),
    "success": T("The order is completed", "Заявка выполнена"),
    "cancel": T("Refusal of payment", "Отказ от оплаты"),
    "delete": T("The order is deleted", "Заявка удалена"),
    "error": T("Error", "Ошибка"),
}


def status_title(status: str, lang: str) -> str:
    title = STATUS_TITLES.get(status)
    return title(lang) if title else status


def error_span(message: str) -> str:
    return f'<span class="js_field_error">{message}</span>'


FIELD_ERRORS = {
    "required": T("This field is required", "Поле обязательно для заполнения"),
    "select": T("Choose an option", "Выберите вариант"),
    "checkbox": T("You must tick this box", "Необходимо отметить"),
    "min_give": T("Minimum amount is {amount} {code}", "Минимальная сумма {amount} {code}"),
    "max_give": T("Maximum amount is {amount} {code}", "Максимальная сумма {amount} {code}"),
    "zero": T("Enter an amount greater than zero", "Введите сумму больше нуля"),
}

MAINTENANCE_TEXT = T("Maintenance", "Техническое обслуживание")

CREATE_BID_ERROR = T("Error! Please check the highlighted fields.", "Ошибка! Проверьте выделенные поля.")
