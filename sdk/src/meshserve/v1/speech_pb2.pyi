from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AudioFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUDIO_FORMAT_UNSPECIFIED: _ClassVar[AudioFormat]
    AUDIO_FORMAT_WAV: _ClassVar[AudioFormat]
    AUDIO_FORMAT_FLAC: _ClassVar[AudioFormat]
    AUDIO_FORMAT_OPUS: _ClassVar[AudioFormat]
    AUDIO_FORMAT_MP3: _ClassVar[AudioFormat]
    AUDIO_FORMAT_PCM: _ClassVar[AudioFormat]
    AUDIO_FORMAT_AAC: _ClassVar[AudioFormat]
AUDIO_FORMAT_UNSPECIFIED: AudioFormat
AUDIO_FORMAT_WAV: AudioFormat
AUDIO_FORMAT_FLAC: AudioFormat
AUDIO_FORMAT_OPUS: AudioFormat
AUDIO_FORMAT_MP3: AudioFormat
AUDIO_FORMAT_PCM: AudioFormat
AUDIO_FORMAT_AAC: AudioFormat

class SynthesizeRequest(_message.Message):
    __slots__ = ("text", "voice", "format", "sample_rate", "speed", "pitch", "volume", "language", "model", "whole_file")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    VOICE_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    SPEED_FIELD_NUMBER: _ClassVar[int]
    PITCH_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    WHOLE_FILE_FIELD_NUMBER: _ClassVar[int]
    text: str
    voice: str
    format: AudioFormat
    sample_rate: int
    speed: float
    pitch: float
    volume: float
    language: str
    model: str
    whole_file: bool
    def __init__(self, text: _Optional[str] = ..., voice: _Optional[str] = ..., format: _Optional[_Union[AudioFormat, str]] = ..., sample_rate: _Optional[int] = ..., speed: _Optional[float] = ..., pitch: _Optional[float] = ..., volume: _Optional[float] = ..., language: _Optional[str] = ..., model: _Optional[str] = ..., whole_file: _Optional[bool] = ...) -> None: ...

class SynthesizeResponse(_message.Message):
    __slots__ = ("audio", "sample_rate", "duration_seconds", "final", "voice", "media_type", "format", "device", "total_duration_seconds")
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    FINAL_FIELD_NUMBER: _ClassVar[int]
    VOICE_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    audio: bytes
    sample_rate: int
    duration_seconds: float
    final: bool
    voice: str
    media_type: str
    format: str
    device: str
    total_duration_seconds: float
    def __init__(self, audio: _Optional[bytes] = ..., sample_rate: _Optional[int] = ..., duration_seconds: _Optional[float] = ..., final: _Optional[bool] = ..., voice: _Optional[str] = ..., media_type: _Optional[str] = ..., format: _Optional[str] = ..., device: _Optional[str] = ..., total_duration_seconds: _Optional[float] = ...) -> None: ...

class TranscribeConfig(_message.Message):
    __slots__ = ("model", "language", "task", "word_timestamps", "filename", "prompt", "temperature")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    WORD_TIMESTAMPS_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    model: str
    language: str
    task: str
    word_timestamps: bool
    filename: str
    prompt: str
    temperature: float
    def __init__(self, model: _Optional[str] = ..., language: _Optional[str] = ..., task: _Optional[str] = ..., word_timestamps: _Optional[bool] = ..., filename: _Optional[str] = ..., prompt: _Optional[str] = ..., temperature: _Optional[float] = ...) -> None: ...

class TranscribeRequest(_message.Message):
    __slots__ = ("config", "audio")
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    config: TranscribeConfig
    audio: bytes
    def __init__(self, config: _Optional[_Union[TranscribeConfig, _Mapping]] = ..., audio: _Optional[bytes] = ...) -> None: ...

class Word(_message.Message):
    __slots__ = ("word", "start", "end", "probability")
    WORD_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    word: str
    start: float
    end: float
    probability: float
    def __init__(self, word: _Optional[str] = ..., start: _Optional[float] = ..., end: _Optional[float] = ..., probability: _Optional[float] = ...) -> None: ...

class Segment(_message.Message):
    __slots__ = ("id", "start", "end", "text", "avg_logprob", "no_speech_prob", "words", "tokens", "temperature", "compression_ratio", "seek")
    ID_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    AVG_LOGPROB_FIELD_NUMBER: _ClassVar[int]
    NO_SPEECH_PROB_FIELD_NUMBER: _ClassVar[int]
    WORDS_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    COMPRESSION_RATIO_FIELD_NUMBER: _ClassVar[int]
    SEEK_FIELD_NUMBER: _ClassVar[int]
    id: int
    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    words: _containers.RepeatedCompositeFieldContainer[Word]
    tokens: _containers.RepeatedScalarFieldContainer[int]
    temperature: float
    compression_ratio: float
    seek: int
    def __init__(self, id: _Optional[int] = ..., start: _Optional[float] = ..., end: _Optional[float] = ..., text: _Optional[str] = ..., avg_logprob: _Optional[float] = ..., no_speech_prob: _Optional[float] = ..., words: _Optional[_Iterable[_Union[Word, _Mapping]]] = ..., tokens: _Optional[_Iterable[int]] = ..., temperature: _Optional[float] = ..., compression_ratio: _Optional[float] = ..., seek: _Optional[int] = ...) -> None: ...

class TranscribeResponse(_message.Message):
    __slots__ = ("text", "language", "language_probability", "duration_seconds", "segments", "model", "processing_seconds", "language_name", "task", "device")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROCESSING_SECONDS_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_NAME_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    text: str
    language: str
    language_probability: float
    duration_seconds: float
    segments: _containers.RepeatedCompositeFieldContainer[Segment]
    model: str
    processing_seconds: float
    language_name: str
    task: str
    device: str
    def __init__(self, text: _Optional[str] = ..., language: _Optional[str] = ..., language_probability: _Optional[float] = ..., duration_seconds: _Optional[float] = ..., segments: _Optional[_Iterable[_Union[Segment, _Mapping]]] = ..., model: _Optional[str] = ..., processing_seconds: _Optional[float] = ..., language_name: _Optional[str] = ..., task: _Optional[str] = ..., device: _Optional[str] = ...) -> None: ...

class ListVoicesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Voice(_message.Message):
    __slots__ = ("name", "kind", "engine", "languages", "sample_rate", "available", "unavailable_reason", "aliases")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    UNAVAILABLE_REASON_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: str
    engine: str
    languages: _containers.RepeatedScalarFieldContainer[str]
    sample_rate: int
    available: bool
    unavailable_reason: str
    aliases: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[str] = ..., engine: _Optional[str] = ..., languages: _Optional[_Iterable[str]] = ..., sample_rate: _Optional[int] = ..., available: _Optional[bool] = ..., unavailable_reason: _Optional[str] = ..., aliases: _Optional[_Iterable[str]] = ...) -> None: ...

class ListVoicesResponse(_message.Message):
    __slots__ = ("voices",)
    VOICES_FIELD_NUMBER: _ClassVar[int]
    voices: _containers.RepeatedCompositeFieldContainer[Voice]
    def __init__(self, voices: _Optional[_Iterable[_Union[Voice, _Mapping]]] = ...) -> None: ...

class GetSpeechStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetSpeechStatusResponse(_message.Message):
    __slots__ = ("tts_ready", "stt_ready", "output_formats", "device", "syntheses", "transcriptions", "synthesized_seconds", "transcribed_seconds", "tts_real_time_factor", "stt_real_time_factor", "limits", "unavailable_output_formats", "tts_error", "stt_error", "synthesized_characters", "mean_first_audio_seconds", "failures", "in_flight", "input_formats", "default_voice", "default_stt_model")
    class LimitsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class UnavailableOutputFormatsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class FailuresEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    TTS_READY_FIELD_NUMBER: _ClassVar[int]
    STT_READY_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FORMATS_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    SYNTHESES_FIELD_NUMBER: _ClassVar[int]
    TRANSCRIPTIONS_FIELD_NUMBER: _ClassVar[int]
    SYNTHESIZED_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TRANSCRIBED_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TTS_REAL_TIME_FACTOR_FIELD_NUMBER: _ClassVar[int]
    STT_REAL_TIME_FACTOR_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    UNAVAILABLE_OUTPUT_FORMATS_FIELD_NUMBER: _ClassVar[int]
    TTS_ERROR_FIELD_NUMBER: _ClassVar[int]
    STT_ERROR_FIELD_NUMBER: _ClassVar[int]
    SYNTHESIZED_CHARACTERS_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIRST_AUDIO_SECONDS_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    INPUT_FORMATS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_VOICE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_STT_MODEL_FIELD_NUMBER: _ClassVar[int]
    tts_ready: bool
    stt_ready: bool
    output_formats: _containers.RepeatedScalarFieldContainer[str]
    device: str
    syntheses: int
    transcriptions: int
    synthesized_seconds: float
    transcribed_seconds: float
    tts_real_time_factor: float
    stt_real_time_factor: float
    limits: _containers.ScalarMap[str, str]
    unavailable_output_formats: _containers.ScalarMap[str, str]
    tts_error: str
    stt_error: str
    synthesized_characters: int
    mean_first_audio_seconds: float
    failures: _containers.ScalarMap[str, int]
    in_flight: int
    input_formats: _containers.RepeatedScalarFieldContainer[str]
    default_voice: str
    default_stt_model: str
    def __init__(self, tts_ready: _Optional[bool] = ..., stt_ready: _Optional[bool] = ..., output_formats: _Optional[_Iterable[str]] = ..., device: _Optional[str] = ..., syntheses: _Optional[int] = ..., transcriptions: _Optional[int] = ..., synthesized_seconds: _Optional[float] = ..., transcribed_seconds: _Optional[float] = ..., tts_real_time_factor: _Optional[float] = ..., stt_real_time_factor: _Optional[float] = ..., limits: _Optional[_Mapping[str, str]] = ..., unavailable_output_formats: _Optional[_Mapping[str, str]] = ..., tts_error: _Optional[str] = ..., stt_error: _Optional[str] = ..., synthesized_characters: _Optional[int] = ..., mean_first_audio_seconds: _Optional[float] = ..., failures: _Optional[_Mapping[str, int]] = ..., in_flight: _Optional[int] = ..., input_formats: _Optional[_Iterable[str]] = ..., default_voice: _Optional[str] = ..., default_stt_model: _Optional[str] = ...) -> None: ...
