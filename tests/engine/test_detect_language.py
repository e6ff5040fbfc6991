"""The take's language, guessed from a short text in each of Qwen3-TTS's 10 languages."""
import pytest

from engine.text.detect_language import CODES, detect_language

SAMPLES = {
    "zh": ["今天天气很好，我们去公园散步吧。", "这是一个测试。"],
    "en": ["The weather is lovely today, let's go for a walk.", "I think that is fine."],
    "ja": ["今日はいい天気ですね。散歩に行きましょう。", "ありがとうございます"],
    "ko": ["오늘 날씨가 정말 좋네요. 산책하러 가요.", "감사합니다"],
    "de": ["Das Wetter ist heute schön, wir gehen spazieren.", "Ich weiß es nicht."],
    "fr": ["Il fait beau aujourd'hui, nous allons nous promener.", "Je ne sais pas."],
    "ru": ["Сегодня прекрасная погода, пойдём гулять.", "Я не знаю."],
    "pt": ["O tempo está ótimo hoje, vamos passear com os cães.", "Eu não sei."],
    "es": ["Hace muy buen tiempo hoy, vamos a pasear por el parque.", "¿Dónde está el baño?"],
    "it": ["Oggi il tempo è bello, andiamo a fare una passeggiata.", "Non lo so, questo è difficile."],
}


@pytest.mark.parametrize("code", CODES)
def test_each_language_is_recognised_from_a_short_text(code):
    for text in SAMPLES[code]:
        assert detect_language(text) == code, text


def test_a_text_without_letters_has_no_language_and_mixed_latin_defaults_to_english():
    assert detect_language("123 456 !?") is None
    assert detect_language("OK") == "en"
    # Japanese with many kanji is still Japanese (kana decide), a Chinese sentence with a Latin name is Chinese.
    assert detect_language("東京都庁は新宿区にあります") == "ja"
    assert detect_language("我喜欢用 Python 写代码") == "zh"

