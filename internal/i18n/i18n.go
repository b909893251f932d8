// Package i18n holds ringgate's built-in texts in the languages of
// verification traffic: the SMS text, the voice prompt, the voice (TTS)
// language tag of each, and the language a country's numbers get when a
// start names no locale. It is data and lookups only, no I/O.
//
// The tables are written by hand: they are the product's own wording, and
// no library carries verification texts.
package i18n

import (
	"sort"
	"strings"
)

// Texts are one language's built-in texts. SMS uses {app} and {code};
// Voice uses the dialplan's {{app}} and {{code}} placeholders.
type Texts struct {
	SMS   string
	Voice string
	// TTS is the language tag the HTTP carriers' text-to-speech takes
	// (Twilio and TeXML <Say language>, Vonage NCCO language, Plivo
	// <Speak language>).
	TTS string
}

var table = map[string]Texts{
	"en": {"Your {app} verification code is {code}. Do not share it with anyone.",
		"Hello, your {{app}} verification code is {{code}}. Press 1 to repeat.", "en-US"},
	"es": {"Tu código de verificación de {app} es {code}. No lo compartas con nadie.",
		"Hola, tu código de verificación de {{app}} es {{code}}. Pulsa 1 para repetir.", "es-ES"},
	"fr": {"Votre code de vérification {app} est {code}. Ne le partagez avec personne.",
		"Bonjour, votre code de vérification {{app}} est {{code}}. Appuyez sur 1 pour répéter.", "fr-FR"},
	"de": {"Ihr {app}-Bestätigungscode lautet {code}. Geben Sie ihn an niemanden weiter.",
		"Hallo, Ihr {{app}}-Bestätigungscode lautet {{code}}. Drücken Sie die 1 zum Wiederholen.", "de-DE"},
	"it": {"Il tuo codice di verifica {app} è {code}. Non condividerlo con nessuno.",
		"Ciao, il tuo codice di verifica {{app}} è {{code}}. Premi 1 per ripetere.", "it-IT"},
	"pt": {"O seu código de verificação {app} é {code}. Não o partilhe com ninguém.",
		"Olá, o seu código de verificação {{app}} é {{code}}. Prima 1 para repetir.", "pt-PT"},
	"pt-BR": {"Seu código de verificação {app} é {code}. Não o compartilhe com ninguém.",
		"Olá, seu código de verificação {{app}} é {{code}}. Pressione 1 para repetir.", "pt-BR"},
	"nl": {"Je {app}-verificatiecode is {code}. Deel deze met niemand.",
		"Hallo, je {{app}}-verificatiecode is {{code}}. Druk op 1 om te herhalen.", "nl-NL"},
	"pl": {"Twój kod weryfikacyjny {app} to {code}. Nie udostępniaj go nikomu.",
		"Dzień dobry, Twój kod weryfikacyjny {{app}} to {{code}}. Naciśnij 1, aby powtórzyć.", "pl-PL"},
	"ru": {"Ваш код подтверждения {app}: {code}. Никому его не сообщайте.",
		"Здравствуйте, ваш код подтверждения {{app}}: {{code}}. Нажмите 1, чтобы повторить.", "ru-RU"},
	"uk": {"Ваш код підтвердження {app}: {code}. Нікому його не повідомляйте.",
		"Добрий день, ваш код підтвердження {{app}}: {{code}}. Натисніть 1, щоб повторити.", "uk-UA"},
	"tr": {"{app} doğrulama kodunuz {code}. Bu kodu kimseyle paylaşmayın.",
		"Merhaba, {{app}} doğrulama kodunuz {{code}}. Tekrar dinlemek için 1'e basın.", "tr-TR"},
	"ar": {"رمز التحقق الخاص بك في {app} هو {code}. لا تشاركه مع أي شخص.",
		"مرحبًا، رمز التحقق الخاص بك في {{app}} هو {{code}}. اضغط 1 للتكرار.", "ar-SA"},
	"hi": {"आपका {app} सत्यापन कोड {code} है। इसे किसी के साथ साझा न करें।",
		"नमस्ते, आपका {{app}} सत्यापन कोड {{code}} है। दोबारा सुनने के लिए 1 दबाएँ।", "hi-IN"},
	"id": {"Kode verifikasi {app} Anda adalah {code}. Jangan berikan kepada siapa pun.",
		"Halo, kode verifikasi {{app}} Anda adalah {{code}}. Tekan 1 untuk mengulang.", "id-ID"},
	"ja": {"{app}の確認コードは{code}です。誰にも教えないでください。",
		"こんにちは。{{app}}の確認コードは{{code}}です。もう一度聞くには1を押してください。", "ja-JP"},
	"ko": {"{app} 인증 코드는 {code}입니다. 다른 사람과 공유하지 마세요.",
		"안녕하세요, {{app}} 인증 코드는 {{code}}입니다. 다시 들으시려면 1번을 누르세요.", "ko-KR"},
	"zh": {"您的{app}验证码是{code}。请勿与任何人分享。",
		"您好，您的{{app}}验证码是{{code}}。重听请按1。", "zh-CN"},
	"zh-TW": {"您的{app}驗證碼是{code}。請勿與任何人分享。",
		"您好，您的{{app}}驗證碼是{{code}}。重聽請按1。", "zh-TW"},
	"vi": {"Mã xác minh {app} của bạn là {code}. Không chia sẻ mã này với bất kỳ ai.",
		"Xin chào, mã xác minh {{app}} của bạn là {{code}}. Nhấn phím 1 để nghe lại.", "vi-VN"},
	"th": {"รหัสยืนยัน {app} ของคุณคือ {code} ห้ามแจ้งรหัสนี้แก่ผู้ใด",
		"สวัสดีค่ะ รหัสยืนยัน {{app}} ของคุณคือ {{code}} กด 1 เพื่อฟังอีกครั้ง", "th-TH"},
	"sv": {"Din verifieringskod för {app} är {code}. Dela den inte med någon.",
		"Hej, din verifieringskod för {{app}} är {{code}}. Tryck 1 för att upprepa.", "sv-SE"},
	"ro": {"Codul tău de verificare {app} este {code}. Nu îl împărtăși nimănui.",
		"Bună ziua, codul tău de verificare {{app}} este {{code}}. Apasă 1 pentru a repeta.", "ro-RO"},
	"cs": {"Váš ověřovací kód {app} je {code}. Nikomu ho nesdělujte.",
		"Dobrý den, váš ověřovací kód {{app}} je {{code}}. Pro zopakování stiskněte 1.", "cs-CZ"},
	"el": {"Ο κωδικός επαλήθευσης {app} είναι {code}. Μην τον μοιραστείτε με κανέναν.",
		"Γεια σας, ο κωδικός επαλήθευσης {{app}} είναι {{code}}. Πατήστε 1 για επανάληψη.", "el-GR"},
}

// Default is the language when nothing else decides.
const Default = "en"

// Tags lists the languages with built-in texts, sorted.
func Tags() []string {
	out := make([]string, 0, len(table))
	for k := range table {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Resolve is the built-in language that serves locale: the locale itself
// ("pt-BR"), else its language ("fr" for "fr-CA"), else "" (none).
// Matching ignores case ("PT-br" is "pt-BR").
func Resolve(locale string) string {
	if locale == "" {
		return ""
	}
	for k := range table {
		if strings.EqualFold(k, locale) {
			return k
		}
	}
	lang, _, _ := strings.Cut(locale, "-")
	if _, ok := table[strings.ToLower(lang)]; ok {
		return strings.ToLower(lang)
	}
	return ""
}

// Lookup returns the built-in texts that serve locale (see Resolve).
func Lookup(locale string) (Texts, bool) {
	k := Resolve(locale)
	if k == "" {
		return Texts{}, false
	}
	return table[k], true
}

// TTS is the text-to-speech language tag for locale: its built-in
// language's, else the locale itself when it names a region ("fi-FI"),
// else "" (the provider's default).
func TTS(locale string) string {
	if t, ok := Lookup(locale); ok {
		return t.TTS
	}
	if strings.Contains(locale, "-") {
		return locale
	}
	return ""
}

// regions maps an ISO 3166 region to the locale its numbers get when a
// start gives none; regions not listed get Default.
var regions = map[string]string{
	// Spanish
	"ES": "es", "MX": "es", "AR": "es", "CO": "es", "CL": "es", "PE": "es", "VE": "es", "EC": "es",
	"GT": "es", "CU": "es", "BO": "es", "DO": "es", "HN": "es", "PY": "es", "SV": "es", "NI": "es",
	"CR": "es", "PA": "es", "UY": "es", "PR": "es", "GQ": "es",
	// French
	"FR": "fr", "BE": "fr", "MC": "fr", "LU": "fr", "SN": "fr", "CI": "fr", "CM": "fr", "ML": "fr",
	"BF": "fr", "NE": "fr", "TG": "fr", "BJ": "fr", "GA": "fr", "CG": "fr", "CD": "fr", "MG": "fr",
	"HT": "fr", "RE": "fr", "GP": "fr", "MQ": "fr", "GF": "fr", "PF": "fr", "NC": "fr", "YT": "fr",
	// German
	"DE": "de", "AT": "de", "CH": "de", "LI": "de",
	"IT": "it", "SM": "it", "VA": "it",
	"PT": "pt", "AO": "pt", "MZ": "pt", "CV": "pt", "GW": "pt", "ST": "pt", "BR": "pt-BR",
	"NL": "nl", "SR": "nl", "AW": "nl", "CW": "nl",
	"PL": "pl", "RU": "ru", "BY": "ru", "KZ": "ru", "KG": "ru", "UA": "uk",
	"TR": "tr", "CY": "el", "GR": "el",
	// Arabic
	"SA": "ar", "AE": "ar", "EG": "ar", "MA": "ar", "DZ": "ar", "TN": "ar", "LY": "ar", "IQ": "ar",
	"JO": "ar", "LB": "ar", "SY": "ar", "KW": "ar", "QA": "ar", "BH": "ar", "OM": "ar", "YE": "ar",
	"SD": "ar", "PS": "ar", "MR": "ar",
	"IN": "hi", "ID": "id", "JP": "ja", "KR": "ko",
	"CN": "zh", "SG": "en", "TW": "zh-TW", "HK": "zh-TW", "MO": "zh-TW",
	"VN": "vi", "TH": "th", "SE": "sv", "RO": "ro", "MD": "ro", "CZ": "cs",
}

// ForRegion is the locale for numbers of region (ISO 3166, "FR"): "fr"
// for France, "pt-BR" for Brazil, Default for regions not listed.
func ForRegion(region string) string {
	if l, ok := regions[strings.ToUpper(region)]; ok {
		return l
	}
	return Default
}
