class CompletionResponse:
    id: str
    object: str
    created: int
    model: str
    choices: List[CompletionChoice]
    usage: Usage

class CompletionChoice:
    text: str
    index: int
    logprobs: Optional[LogProbs]
    finish_reason: str
