"""faster-whisper speech to text: one loaded model, transcription with segments, words and language."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

log = logging.getLogger("meshserve.speech.stt")


@dataclass(frozen=True)
class WordTiming:
    """A timed word."""

    word: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True)
class SegmentResult:
    """A timed segment."""

    id: int
    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    words: tuple[WordTiming, ...] = ()
    tokens: tuple[int, ...] = ()
    temperature: float = 0.0
    compression_ratio: float = 0.0
    seek: int = 0


@dataclass(frozen=True)
class Transcript:
    """A whole transcription."""

    text: str
    language: str
    language_probability: float
    duration: float
    segments: list[SegmentResult] = field(default_factory=list)


@dataclass(frozen=True)
class SttOptions:
    """Options of one transcription."""

    language: str = ""
    task: str = "transcribe"
    word_timestamps: bool = False
    prompt: str = ""
    temperature: float = 0.0


class WhisperEngine:
    """A CTranslate2 Whisper model loaded once."""

    def __init__(
        self, name: str, model_dir: Path, device: str, compute_type: str, beam_size: int, cpu_threads: int
    ) -> None:
        from faster_whisper import WhisperModel

        self.name = name
        self.device = device
        self.beam_size = beam_size
        if compute_type == "auto":
            compute_type = "float16" if device == "cuda" else "int8"
        self.compute_type = compute_type
        self.model = WhisperModel(
            str(model_dir), device=device, compute_type=compute_type, cpu_threads=cpu_threads
        )

    def transcribe(self, samples: np.ndarray, options: SttOptions) -> Transcript:
        """Text, segments and language of 16 kHz mono float32 audio."""
        segments, info = self.model.transcribe(
            samples,
            language=options.language or None,
            task=options.task,
            beam_size=self.beam_size,
            word_timestamps=options.word_timestamps,
            initial_prompt=options.prompt or None,
            temperature=options.temperature,
            condition_on_previous_text=False,  # fewer run-away repetitions on short clips
        )
        results = [
            SegmentResult(
                id=i,
                start=float(s.start),
                end=float(s.end),
                text=s.text,
                avg_logprob=float(s.avg_logprob),
                no_speech_prob=float(s.no_speech_prob),
                words=tuple(
                    WordTiming(w.word, float(w.start), float(w.end), float(w.probability))
                    for w in s.words or ()
                ),
                tokens=tuple(int(t) for t in s.tokens),
                temperature=float(s.temperature or 0.0),
                compression_ratio=float(s.compression_ratio),
                seek=int(s.seek),
            )
            for i, s in enumerate(segments)
        ]
        return Transcript(
            text=" ".join(s.text.strip() for s in results).strip(),
            language=info.language,
            language_probability=float(info.language_probability),
            duration=float(info.duration),
            segments=results,
        )

    def warm_up(self) -> None:
        """One short decode so the first request does not pay for initialisation."""
        self.model.transcribe(np.zeros(16000, dtype=np.float32), language="en", beam_size=1)


def cuda_for_ctranslate2() -> bool:
    """Whether CTranslate2 sees a CUDA device."""
    try:
        import ctranslate2

        return ctranslate2.get_cuda_device_count() > 0
    except Exception:  # no CUDA runtime at all
        return False


def language_name(code: str) -> str:
    """English name of a Whisper language code, such as ``english`` for ``en`` (the code when unknown)."""
    return _LANGUAGE_NAMES.get(code, code)


# Whisper's own table (openai/whisper tokenizer.py), the names OpenAI's verbose_json reports.
_LANGUAGE_NAMES = {
    "en": "english", "zh": "chinese", "de": "german", "es": "spanish", "ru": "russian", "ko": "korean",
    "fr": "french", "ja": "japanese", "pt": "portuguese", "tr": "turkish", "pl": "polish", "ca": "catalan",
    "nl": "dutch", "ar": "arabic", "sv": "swedish", "it": "italian", "id": "indonesian", "hi": "hindi",
    "fi": "finnish", "vi": "vietnamese", "he": "hebrew", "uk": "ukrainian", "el": "greek", "ms": "malay",
    "cs": "czech", "ro": "romanian", "da": "danish", "hu": "hungarian", "ta": "tamil", "no": "norwegian",
    "th": "thai", "ur": "urdu", "hr": "croatian", "bg": "bulgarian", "lt": "lithuanian", "la": "latin",
    "mi": "maori", "ml": "malayalam", "cy": "welsh", "sk": "slovak", "te": "telugu", "fa": "persian",
    "lv": "latvian", "bn": "bengali", "sr": "serbian", "az": "azerbaijani", "sl": "slovenian",
    "kn": "kannada", "et": "estonian", "mk": "macedonian", "br": "breton", "eu": "basque",
    "is": "icelandic", "hy": "armenian", "ne": "nepali", "mn": "mongolian", "bs": "bosnian",
    "kk": "kazakh", "sq": "albanian", "sw": "swahili", "gl": "galician", "mr": "marathi",
    "pa": "punjabi", "si": "sinhala", "km": "khmer", "sn": "shona", "yo": "yoruba", "so": "somali",
    "af": "afrikaans", "oc": "occitan", "ka": "georgian", "be": "belarusian", "tg": "tajik",
    "sd": "sindhi", "gu": "gujarati", "am": "amharic", "yi": "yiddish", "lo": "lao", "uz": "uzbek",
    "fo": "faroese", "ht": "haitian creole", "ps": "pashto", "tk": "turkmen", "nn": "nynorsk",
    "mt": "maltese", "sa": "sanskrit", "lb": "luxembourgish", "my": "myanmar", "bo": "tibetan",
    "tl": "tagalog", "mg": "malagasy", "as": "assamese", "tt": "tatar", "haw": "hawaiian",
    "ln": "lingala", "ha": "hausa", "ba": "bashkir", "jw": "javanese", "su": "sundanese",
    "yue": "cantonese",
}  # fmt: skip


def supported_languages() -> frozenset[str]:
    """Language codes Whisper knows."""
    return frozenset(_LANGUAGE_NAMES)
