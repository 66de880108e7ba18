import asyncio
from meshserve.compat.inferneo import AsyncInferneoClient

async def batch_process(client, prompts):
    tasks = []
    for prompt in prompts:
        task = client.completions.create(
            model="meta-llama/Llama-2-7b-chat-hf",
            prompt=prompt,
            max_tokens=100
        )
        tasks.append(task)
    
    responses = await asyncio.gather(*tasks)
    return responses

# Usage
async_client = AsyncInferneoClient("http://localhost:8000")
prompts = ["Hello", "How are you?", "What is AI?"]
responses = await batch_process(async_client, prompts)
